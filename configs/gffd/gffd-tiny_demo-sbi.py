# A CPU-sized GFFD on the built-in demo data (real photos + self-blended
# fakes, NOT FF++): two 'tiny' Xceptions (widths 8-128, 2 middle blocks) at
# 64 px, DCMA after the entry flow and after the first middle block, from
# scratch; data, schedule and hooks of configs/multitask/efb4-fpn_demo-sbi.py
# (its map metric scores the RSA attention against the true blend masks).
# Build the data first: python tools/misc/build_demo_data.py
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
model = dict(
    _delete_=True,
    type='GFFD',
    backbone=dict(type='Xception', arch='tiny', img_size=64),
    dcma_after=(3, 4),
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(127.5, 127.5, 127.5),
        std=(127.5, 127.5, 127.5),
        bgr_to_rgb=True))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=(64, 64)),
    dict(type='ManipulationMapHook', out_dir='maps'),
    dict(type='RNGStateHook'),
]
