# WildDeepfake, test only (cross-dataset evaluation): the real_test and
# fake_test face sequences, 10 frames per sequence, face crops and test.json
# made by
#   python tools/dataset_converters/wdf.py <root> data/wdf
# No masks: only detection metrics, prefixed 'wdf/'.
#
# Every key is prefixed so that this file can be inherited next to an FF++
# training base and the other test sets (mmengine refuses duplicate keys
# among bases); the cross-dataset configs (configs/focus/*_cross.py) list it
# in test_cfg.extra of MultiDatasetTestLoop. Alone:
#   test_dataloader = dict(dataset={{_base_.wdf_test_dataset}})
#   test_evaluator = {{_base_.wdf_test_evaluator}}
wdf_root = 'data/wdf'
wdf_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=224),
    dict(type='PackFaceInputs'),
]
wdf_test_dataset = dict(
    type='FaceForgeryDataset', data_root=wdf_root,
    ann_file='test.json', pipeline=wdf_pipeline, test_mode=True)
wdf_test_evaluator = [dict(type='ForgeryMetric', prefix='wdf')]
