# A CPU-sized LTTD on the demo clips (real photos under a smooth motion +
# self-blended pseudo-fake clips, NOT FF++), its patch targets from the TRUE
# per-frame blend masks: 64 px, 8 px patches (64 sequences of 8 frames),
# D = 64, 2 + 2 blocks, from scratch. Build the data first:
#   python tools/misc/build_demo_data.py && python tools/misc/build_demo_clips.py
_base_ = [
    '../_base_/models/lttd.py',
    '../_base_/datasets/demo-clips.py',
    '../_base_/schedules/adamw_demo-300.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(patch_size=8, embed_dims=64, depth=2, num_heads=2,
                  low_level_channels=8, drop_path_rate=0.0),
    num_patches=64, aggregator_depth=2, num_heads=2, embed_dims=64)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=100, max_keep_ckpts=2))
custom_hooks = [dict(type='RNGStateHook')]
