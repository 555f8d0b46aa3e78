# A CPU-sized UIA-ViT on the built-in demo data (real photos + self-blended
# fakes, NOT FF++): the FoCus-demo ViT 'mini' (dim 128, depth 4, 2 heads)
# with the early-convolution stem, patch 8 at 64 px (an 8 x 8 token grid),
# fixed sin-cos positions, from scratch. MGE on the output of block 2, the
# consistency / PCWA attention of blocks 3-4; the schedules run over the 300
# iterations of configs/multitask/efb4-fpn_demo-sbi.py (data, schedule and
# hooks; its map metric scores pred_map against the true blend masks, which
# UIA-ViT never sees). Build the data first: python tools/misc/build_demo_data.py
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
model = dict(
    _delete_=True,
    type='UIAViT',
    backbone=dict(type='FoCusViT', arch='mini', img_size=64, patch_size=8,
                  stem='conv', pos_embed='sincos', drop_path_rate=0.1),
    feat_index=1,
    attn_indices=(2, 3),
    total_iters=300,  # = train_cfg.max_iters
    mge_momentum=0.05,  # a shorter window for the short schedule
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
