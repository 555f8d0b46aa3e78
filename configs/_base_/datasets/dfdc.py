# DFDC (full), test only (cross-dataset evaluation): the public test set,
# single-subject videos only (method.md section 3: a video whose sampled frames
# do not all show exactly one face is left out, see report.json), 10 frames
# per video, face crops and test.json made by
#   python tools/dataset_converters/dfdc.py <root> data/dfdc
# No masks: only detection metrics, prefixed 'dfdc/'.
#
# Every key is prefixed so that this file can be inherited next to an FF++
# training base and the other test sets (mmengine refuses duplicate keys
# among bases); the cross-dataset configs (configs/focus/*_cross.py) list it
# in test_cfg.extra of MultiDatasetTestLoop. Alone:
#   test_dataloader = dict(dataset={{_base_.dfdc_test_dataset}})
#   test_evaluator = {{_base_.dfdc_test_evaluator}}
dfdc_root = 'data/dfdc'
dfdc_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=224),
    dict(type='PackFaceInputs'),
]
dfdc_test_dataset = dict(
    type='FaceForgeryDataset', data_root=dfdc_root,
    ann_file='test.json', pipeline=dfdc_pipeline, test_mode=True)
dfdc_test_evaluator = [dict(type='ForgeryMetric', prefix='dfdc')]
