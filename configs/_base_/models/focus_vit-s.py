# FoCus (Fig. 2): two ViT-S/16 branches (RGB, Sobel) with fixed 2-D sin-cos
# position encoding, CARP necks (k=32), CAR heads, a Complementary Learning
# neck (hard Gumbel-softmax token substitution), loss loc x2 + 0.1 x fused.
model = dict(
    type='FoCus',
    modalities=('rgb', 'sobel'),
    backbone=dict(
        type='FoCusViT',
        arch='deit-s',
        img_size=224,
        patch_size=16,
        pos_embed='sincos',
        drop_path_rate=0.1,
        # A local file made by tools/model_converters/timm_vit_to_mmfocus.py
        # from a DeiT-S checkpoint; None trains from scratch.
        pretrained=None),
    neck=dict(type='CARPNeck', k=32, kernel_size=1),
    head=dict(type='CARHead', k=32),
    cl_neck=dict(type='ComplementaryLearningNeck', tau=1.0, hard=True),
    map_source='car',
    # 'minmax': each CAR map stretched to [0, 1] per image (Eq. 4, the
    # paper's figures); 'posterior': the per-location fake probability, one
    # scale for all faces (docs/en/method.md, "Map scale")
    map_norm='minmax',
    loc_weight=1.0,
    fused_weight=0.1,
    # True: the two backbones as one vmapped call (stacked weights); same
    # outputs and gradients (tests/test_models/test_branch_stack.py)
    batch_branches=False,
    data_preprocessor=dict(
        type='FoCusDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        to_rgb=True,
        sobel_mode='magnitude'),
)
