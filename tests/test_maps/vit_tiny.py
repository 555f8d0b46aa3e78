# A tiny plain ViT detector on demo-format data for the map tests (CPU,
# seconds): configs/vit/vit-demo_demo-sbi.py at 32 px with the 'test' ViT.
_base_ = ['../../configs/vit/vit-demo_demo-sbi.py']
img_size = 32
model = dict(
    backbone=dict(arch='test', img_size=img_size, patch_size=8,
                  drop_path_rate=0.),
    head=dict(in_channels=64))
train_pipeline = [
    dict(type='LoadFace'),
    dict(type='ResizeFace', scale=img_size),
    dict(type='SelfBlend', prob=0.5),
    dict(type='RandomFaceFlip', prob=0.5),
    dict(type='PackFaceInputs'),
]
test_pipeline = [
    dict(type='LoadFace'),
    dict(type='ResizeFace', scale=img_size),
    dict(type='PackFaceInputs'),
]
train_dataloader = dict(batch_size=4, num_workers=0,
                        persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                       dataset=dict(pipeline=test_pipeline))
max_iters = 4
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=2)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, max_keep_ckpts=5))
