# MaDD (Zhao et al., CVPR 2021) on FF++ LQ (c40) at EfficientNet-B4's 380 px
# (the paper's input size), the FoCus data split and schedule (Adam 1e-4,
# batch 128 = 8 x 16, 30k iterations, cosine). No map targets are used; its
# pred_map (the mean of the min-max normalised attention maps) is scored by
# the map metric and dumped by the map hook. Run:
#   tools/dist_train.sh configs/madd/madd-efb4_ffpp-c40.py 8
_base_ = [
    '../_base_/models/madd_efb4.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
# The dataset bases resize to 224 px: the same pipelines at 380 px.
img_size = 380
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
default_hooks = dict(checkpoint=dict(save_best='forgery/auc', rule='greater'))
