# A CPU-sized LTTD on the demo clips (real photos under a smooth motion +
# self-blended pseudo-fake clips, NOT FF++), its patch targets from the TRUE
# per-frame blend masks: 64 px, 8 px patches (64 sequences of 8 frames),
# D = 64, 2 + 2 blocks, from scratch. Build the data first:
#   python tools/misc/build_demo_data.py && python tools/misc/build_demo_clips.py
_base_ = [
    '../_base_/models/lttd.py',
    '../_base_/datasets/demo-clips.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(patch_size=8, embed_dims=64, depth=2, num_heads=2,
                  low_level_channels=8, drop_path_rate=0.0),
    num_patches=64, aggregator_depth=2, num_heads=2, embed_dims=64)

max_iters = 300
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.01),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=30,
         start_factor=0.01),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters,
         T_max=max_iters - 30, eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=100, max_keep_ckpts=2))
custom_hooks = [dict(type='RNGStateHook')]
