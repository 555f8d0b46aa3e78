# A CPU-sized Xception classifier on the built-in demo data (real photos +
# self-blended fakes, NOT FF++): the 'tiny' arch (widths 8-128, 2 middle
# blocks) at 64 px, from scratch; data, schedule and hooks of
# configs/multitask/efb4-fpn_demo-sbi.py. No map output.
# Build the data first: python tools/misc/build_demo_data.py
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
model = dict(
    _delete_=True,
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmfocus.Xception', arch='tiny', img_size=64,
                  out_indices=(5, )),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=2,
        in_channels=128,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=2,
        mean=(127.5, 127.5, 127.5),
        std=(127.5, 127.5, 127.5),
        to_rgb=True),
)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=(64, 64)),
    dict(type='RNGStateHook'),
]
