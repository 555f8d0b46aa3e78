# A CPU-sized Face X-ray on the built-in demo data (real photos +
# self-blended fakes, NOT FF++), its X-ray targets from the fakes' EXACT
# soft blend masks (B = 4 M (1 - M) after the 3x3 target blur): a tiny
# HRNet (one block per branch, widths 16/32/64/128) at 64 px, the HRNetV2
# representation 240 x 16 x 16, from scratch; data, schedule and hooks of
# configs/multitask/efb4-fpn_demo-sbi.py.
# Build the data first: python tools/misc/build_demo_data.py
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
model = dict(
    _delete_=True,
    type='FaceXray',
    backbone=dict(
        type='mmpretrain.HRNet',
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK',
                        num_blocks=(1, ), num_channels=(16, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC',
                        num_blocks=(1, 1), num_channels=(16, 32)),
            stage3=dict(num_modules=1, num_branches=3, block='BASIC',
                        num_blocks=(1, 1, 1), num_channels=(16, 32, 64)),
            stage4=dict(num_modules=1, num_branches=4, block='BASIC',
                        num_blocks=(1, 1, 1, 1),
                        num_channels=(16, 32, 64, 128)))),
    neck=dict(type='HRNetV2Concat', in_channels=(16, 32, 64, 128)),
    xray_head=dict(type='FaceXrayHead', in_channels=240, loss_weight=100.0),
    cls_input='xray',
    map_mode='boundary',  # 'region': what the predicted boundary encloses
    cls_channels=(16, 32),
    target_size=(64, 64))
# pred_map is a blending boundary, not a region: no MapQualityMetric (the
# maps are still written by ManipulationMapHook; README.md).
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=(64, 64)),
    dict(type='ManipulationMapHook', out_dir='maps'),
    dict(type='RNGStateHook'),
]
