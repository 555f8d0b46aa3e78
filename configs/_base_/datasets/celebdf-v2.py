# Celeb-DF v2, test only (cross-dataset evaluation): the official
# List_of_testing_videos.txt (178 real + 340 fake videos), 10 frames per
# video, face crops and test.json made by
#   python tools/dataset_converters/celebdf.py <root> data/celebdf-v2
# No masks: only detection metrics, prefixed 'celebdf-v2/'.
#
# Every key is prefixed so that this file can be inherited next to an FF++
# training base (mmengine refuses duplicate keys among bases). Use it as:
#   _base_ = ['../_base_/datasets/ffpp-c40.py',
#             '../_base_/datasets/celebdf-v2.py', ...]
#   test_dataloader = dict(dataset={{_base_.celebdf_v2_test_dataset}})
#   test_evaluator = {{_base_.celebdf_v2_test_evaluator}}
celebdf_v2_root = 'data/celebdf-v2'
celebdf_v2_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=224),
    dict(type='PackFaceInputs'),
]
celebdf_v2_test_dataset = dict(
    type='FaceForgeryDataset', data_root=celebdf_v2_root,
    ann_file='test.json', pipeline=celebdf_v2_pipeline, test_mode=True)
celebdf_v2_test_evaluator = [dict(type='ForgeryMetric', prefix='celebdf-v2')]
