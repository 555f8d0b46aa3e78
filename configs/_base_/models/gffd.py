# GFFD (Luo et al., CVPR 2021): two legacy Xceptions (RGB and SRM noise
# residuals), multi-scale SRM features of the RGB stem added to the
# high-frequency stream, residual guided spatial attention (RSA) on the RGB
# stem, dual cross-modality attention (DCMA) after the entry flow and after
# the 4th middle block, attention fusion of the exit features, linear
# classifier, CE. pred_map = the RSA attention (the 'gffd' map source).
model = dict(
    type='GFFD',
    backbone=dict(
        type='Xception',
        arch='legacy',
        img_size=299,
        # From scratch by default. ImageNet weights (both streams) from a
        # local timm file:
        #   python tools/model_converters/timm_xception_to_mmfocus.py \
        #       xception-43020ad28.pth checkpoints/xception_timm.pth
        # and add
        # init_cfg=dict(type='Pretrained', prefix='backbone',
        #               checkpoint='checkpoints/xception_timm.pth')
    ),
    num_classes=2,
    srm_truncate=3.0,
    multiscale_srm=True,
    rsa=True,
    rsa_kernel_size=7,
    dcma_after=(3, 7),
    dcma_ratio=8,
    dcma_tokens=None,  # 361 (19 x 19 at 299 px): the authors' projection
    fusion='attention',
    dropout=0.0,
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(127.5, 127.5, 127.5),
        std=(127.5, 127.5, 127.5),
        bgr_to_rgb=True),
)
