# FoCus-demo on the built-in demo data (real photos + self-blended fakes,
# NOT FF++): two small ViTs (dim 192, depth 6, patch 8 at 112 px, i.e. the
# paper's 14x14 token grid), trained from scratch. The shipped checkpoint
# checkpoints/focus_vit-demo_demo-sbi.pth was made with this config by the
# command recorded in configs/focus/README.md.
_base_ = [
    '../_base_/models/focus_vit-s.py',
    '../_base_/datasets/demo-sbi.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(arch='demo', img_size=112, patch_size=8,
                  drop_path_rate=0.1, pretrained=None))
train_dataloader = dict(batch_size=32)  # pairs: 64 images

max_iters = 1500
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999),
                   weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=150,
         start_factor=0.01),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=150,
         end=max_iters, T_max=max_iters - 150, eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=500, max_keep_ckpts=2))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),
    dict(type='ManipulationMapHook', out_dir='maps'),
    dict(type='RNGStateHook'),
]
