# DFDC preview, test only (cross-dataset evaluation): the videos of
# dataset.json with "set": "test", 10 frames per video, face crops and
# test.json made by
#   python tools/dataset_converters/dfdcp.py <root> data/dfdcp
# No masks: only detection metrics, prefixed 'dfdcp/'.
#
# Every key is prefixed so that this file can be inherited next to an FF++
# training base and the other test sets (mmengine refuses duplicate keys
# among bases); the cross-dataset configs (configs/focus/*_cross.py) list it
# in test_cfg.extra of MultiDatasetTestLoop. Alone:
#   test_dataloader = dict(dataset={{_base_.dfdcp_test_dataset}})
#   test_evaluator = {{_base_.dfdcp_test_evaluator}}
dfdcp_root = 'data/dfdcp'
dfdcp_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=224),
    dict(type='PackFaceInputs'),
]
dfdcp_test_dataset = dict(
    type='FaceForgeryDataset', data_root=dfdcp_root,
    ann_file='test.json', pipeline=dfdcp_pipeline, test_mode=True)
dfdcp_test_evaluator = [dict(type='ForgeryMetric', prefix='dfdcp')]
