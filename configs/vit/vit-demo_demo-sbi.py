# The plain ViT detector at demo size on the built-in demo data (real photos
# + self-blended fakes, NOT FF++): the FoCus-demo backbone ('mini', conv
# stem, patch 8 at 64 px) with a linear head on the class token, trained
# from scratch with the same data, pairing and schedule as FoCus-demo, for
# the GradCAM / ScoreCAM maps of the demo map comparison. The shipped
# checkpoints/vit_vit-demo_demo-sbi.pth was made by
# `python tools/train.py configs/vit/vit-demo_demo-sbi.py`.
_base_ = [
    '../_base_/datasets/demo-sbi.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/adamw_demo-3k.py',
]
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmfocus.FoCusViT', arch='mini', img_size=64,
                  patch_size=8, stem='conv', pos_embed='learned',
                  drop_path_rate=0.1, pretrained=None),
    neck=None,
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=2,
        in_channels=128,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=2,
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        to_rgb=True),
)
train_dataloader = dict(batch_size=16, num_workers=1)  # + 16 own fakes
val_dataloader = dict(num_workers=1)
test_dataloader = dict(num_workers=1)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=500, max_keep_ckpts=2))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),
    dict(type='RNGStateHook'),
]
