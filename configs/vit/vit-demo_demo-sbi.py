# The plain ViT detector at demo size on the built-in demo data (real photos
# + self-blended fakes, NOT FF++): the FoCus-demo backbone (dim 192, depth 6,
# patch 8 at 112 px, the paper's 14x14 token grid), trained from scratch on
# CPU/GPU, for GradCAM / ScoreCAM maps of the demo protocol.
_base_ = [
    '../_base_/datasets/demo-sbi.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmfocus.FoCusViT', arch='demo', img_size=112,
                  patch_size=8, pos_embed='learned', drop_path_rate=0.1,
                  pretrained=None),
    neck=None,
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=2,
        in_channels=192,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=2,
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        to_rgb=True),
)
train_dataloader = dict(batch_size=64)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator

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
                    interval=500, max_keep_ckpts=2, save_best='forgery/auc',
                    rule='greater'))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),
    dict(type='RNGStateHook'),
]
