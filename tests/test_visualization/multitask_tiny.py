# A tiny Fig. 4 evaluation model (EfficientNet-B0, narrow FPN) at 32 px for
# the visualization tests (random weights, CPU, seconds).
_base_ = ['../../configs/multitask/efb4-fpn_demo-sbi.py']
img_size = 32
model = dict(
    neck=dict(out_channels=16),
    decoder=dict(in_channels=[16, 16, 16, 16], channels=8))
test_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=img_size),
    dict(type='PackFaceInputs'),
]
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                       dataset=dict(pipeline=test_pipeline))
custom_hooks = []
