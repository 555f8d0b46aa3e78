# Face X-ray (HRNet-w48, 256 px) on FF++ c40, its X-ray supervised by the
# TRUE FF++ manipulation masks: the default train.json written by
# tools/dataset_converters/ffpp.py carries each fake frame's binary mask
# (masks/<method>/<video>/<frame>.png, converted from the dataset's mask
# videos; docs/en/user_guides/dataset_prepare.md), softened by the 3x3
# Gaussian of the target (FaceXrayHead). Training on another map source's
# maps instead: ann_file='train_maps-<source>.json' (tools/generate_maps.py).
# Crops (224 px by default) are resized to the paper's 256 px. The paper's
# BI data (online blended reals) is not part of this config; schedule: the
# toolbox's shared FF++ schedule (Adam 1e-4, 30k iterations), not the
# paper's.
_base_ = [
    '../_base_/models/face-xray_hrnet-w48.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
img_size = 256
train_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=img_size),
    dict(type='RandomFaceFlip', prob=0.5),
    dict(type='PackFaceInputs'),
]
test_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=img_size),
    dict(type='PackFaceInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# pred_map is a blending boundary, not a region: MapQualityMetric (against
# region masks) is left out; see README.md for map_mode='region'.
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
