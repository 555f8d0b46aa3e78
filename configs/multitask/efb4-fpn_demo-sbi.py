# A CPU-sized Fig. 4 model on the built-in demo data (real photos +
# self-blended fakes, NOT FF++), trained with the fakes' TRUE blend masks as
# map targets (the upper bound of any map source): EfficientNet-B0 at 112 px,
# a narrow FPN and decoder, from scratch. Build the data first with
# `python tools/misc/build_demo_data.py`.
_base_ = [
    '../_base_/models/efb4-fpn.py',
    '../_base_/datasets/demo-sbi.py',
    '../_base_/schedules/adamw_demo-300.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(arch='b0', drop_path_rate=0.1),
    neck=dict(in_channels=[24, 40, 112, 320], out_channels=64),
    decoder=dict(in_channels=[64, 64, 64, 64], channels=32),
    cls_in_channels=1280)
train_dataloader = dict(batch_size=16)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=100, max_keep_ckpts=2))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=(112, 112)),
    dict(type='ManipulationMapHook', out_dir='maps'),
    dict(type='RNGStateHook'),
]
