# The FF++ Xception baseline (Rössler et al., ICCV 2019) on FF++ LQ (c40) at
# Xception's 299 px: the FoCus data split and schedule (Adam 1e-4, batch
# 128 = 8 x 16, 30k iterations, cosine). Run:
#   tools/dist_train.sh configs/xception/xception_ffpp-c40.py 8
_base_ = [
    '../_base_/models/xception.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
# The dataset bases resize to 224 px: the same pipelines at 299 px.
img_size = 299
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
# A classifier: no manipulation map, so no map metric and no map dump.
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),
    dict(type='RNGStateHook'),
]
default_hooks = dict(checkpoint=dict(save_best='forgery/auc', rule='greater'))
