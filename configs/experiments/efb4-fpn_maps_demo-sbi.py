# The CPU-sized Fig. 4 model used by the demo map protocol
# (configs/experiments/map_protocol_demo.py): EfficientNet-B0 + narrow FPN
# (configs/multitask/efb4-fpn_demo-sbi.py) at 64 px, trained on the demo
# data's STORED fakes, whose mask_path the protocol points to each map
# source's maps (tools/experiments/map_protocol.py replaces ann_file). No
# online SelfBlend here: its true blend mask would become the target and
# every map source would be the same experiment.
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
img_size = 64
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
train_dataloader = dict(
    batch_size=16,
    # methods=None keeps the stored fakes (and their map targets); no
    # online blending, so no real/fake pairing either
    dataset=dict(ann_file='train.json', methods=None,
                 paired_self_blend=False, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

max_iters = 40
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=4,
         start_factor=0.01),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=4, end=max_iters,
         T_max=max_iters - 4, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=(img_size, img_size)),
    dict(type='RNGStateHook'),
]
