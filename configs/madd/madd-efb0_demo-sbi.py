# A CPU-sized MaDD on the built-in demo data (real photos + self-blended
# fakes, NOT FF++): EfficientNet-B0 at 64 px, from scratch. At 64 px the
# stride-16 stage is a 4 x 4 grid, so the attention module reads the stride-8
# stage (index 3, 40 ch, 8 x 8) and the textures the stride-4 one (index 2,
# 24 ch, 16 x 16); AGDA's blur is scaled to the 32 px half-resolution image
# (kernel 5, no dilation, sigma 2). Data, schedule and hooks of
# configs/multitask/efb4-fpn_demo-sbi.py (its map metric scores pred_map
# against the true blend masks, which MaDD never sees).
# Build the data first: python tools/misc/build_demo_data.py
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
model = dict(
    _delete_=True,
    type='MaDD',
    backbone=dict(type='mmpretrain.EfficientNet', arch='b0',
                  out_indices=(2, 3, 6), drop_path_rate=0.1),
    num_attentions=4,
    mid_channels=128,
    attention_dropout=0.25,
    dropout=0.5,
    loss_weight=1.0,  # stated so that --cfg-options can switch them
    agda=True,
    agda_kernel_size=5,
    agda_dilation=1,
    agda_sigma=2.0,
    map_type='mean',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True))
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=(64, 64)),
    dict(type='ManipulationMapHook', out_dir='maps'),
    dict(type='RNGStateHook'),
]
