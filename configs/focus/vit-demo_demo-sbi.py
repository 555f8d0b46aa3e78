# FoCus-demo on the built-in demo data (real photos + self-blended
# pseudo-fakes of the whole face or of one facial region, NOT FF++): two
# small ViTs ('mini': dim 128, depth 4) with an early-convolution stem (patch
# 8 at 64 px: an 8x8 token grid), trained from scratch on 2 CPU cores in
# about 25 minutes; each batch holds 16 real faces beside their own fakes.
# The shipped checkpoint checkpoints/focus_vit-demo_demo-sbi.pth was made by
# `python tools/train.py configs/focus/vit-demo_demo-sbi.py` (the run
# recorded in configs/focus/README.md).
_base_ = [
    '../_base_/models/focus_vit-s.py',
    '../_base_/datasets/demo-sbi.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adamw_demo-3k.py',
]
model = dict(
    backbone=dict(arch='mini', img_size=64, patch_size=8, stem='conv',
                  drop_path_rate=0.1, pretrained=None),
    # per-location fake probability instead of per-image min-max (chosen on
    # the VAL split: paired map-AUC 0.768 / 0.729 vs 0.465 / 0.500 for
    # training seeds 0 / 1; configs/focus/README.md#demo-checkpoint)
    map_norm='posterior')
train_dataloader = dict(batch_size=16, num_workers=1)  # + 16 own fakes
val_dataloader = dict(num_workers=1)
test_dataloader = dict(num_workers=1)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=500, max_keep_ckpts=2))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),
    dict(type='ManipulationMapHook', out_dir='maps'),
    dict(type='RNGStateHook'),
]
