# MaDD (Zhao et al., CVPR 2021, "Multi-attentional Deepfake Detection"):
# EfficientNet-B4 (mmpretrain) returning stage b2 (stride 4, 32 ch: textures),
# b5 (stride 16, 160 ch: the attention module) and the final 1x1 conv (1792
# ch: the global feature). 4 attention maps (1x1 conv + BN + ReLU), textural
# enhancement (local average pooling residual + 3-layer dense block), BAP
# (sign-sqrt + L2), the authors' projection heads, regional independence loss
# (centres moved by alpha 0.05, margins (0.2, -0.8), inter 0.8) and AGDA (soft
# attention dropping, a second forward). pred_map = the mean of the min-max
# normalised attention maps (the 'madd' map source).
model = dict(
    type='MaDD',
    backbone=dict(
        type='mmpretrain.EfficientNet',
        arch='b4',
        out_indices=(2, 4, 6),  # b2 (textures), b5 (attention), final conv
        drop_path_rate=0.2,
        # From scratch by default. ImageNet weights from a local file
        # (nothing is downloaded), e.g. timm's tf_efficientnet_b4:
        #   python tools/model_converters/tv_efficientnet_to_mmpretrain.py \
        #       tf_efficientnet_b4.safetensors checkpoints/efb4_tf.pth \
        #       --tf-padding
        # and add (with the kwargs the tool prints; none for --tf-padding)
        # init_cfg=dict(type='Pretrained', prefix='backbone',
        #               checkpoint='checkpoints/efb4_tf.pth')
    ),
    num_classes=2,
    num_attentions=4,
    attention_act='relu',  # 'elu' = ELU + 1 (the authors' code)
    attention_extract=False,  # True: the code's 3x3 conv before the 1x1
    attention_border=0.0,  # 2 / 24: the code's zeroed border
    texture_mode='shared',  # 'per_attention': the code's later block
    texture_layers=3,
    texture_channels=None,  # 4 x 32: the dense block's width
    bap_norm='sqrt-l2',  # 'l2': the authors' code
    mid_channels=256,
    attention_dropout=0.25,
    dropout=0.5,
    loss_weight=1.0,  # the code: 0.5
    ria_input='pooled',
    alpha=0.05,
    alpha_decay=1.0,  # the code: 0.9 per epoch (with alpha_decay_interval)
    alpha_decay_interval=0,
    margins=(0.2, -0.8),  # real pulled within 0.2, fakes pushed beyond 0.8
    inter_margin=0.8,
    centre_update='real',
    agda=True,
    agda_loss_weight=1.0,
    match_loss_weight=0.1,
    agda_kernel_size=11,
    agda_dilation=2,
    agda_sigma=7.0,
    agda_scale_factor=0.5,
    agda_threshold=(0.4, 0.6),
    agda_zoom=(3.0, 5.0),
    agda_noise_rate=0.1,
    map_type='mean',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True),
)
