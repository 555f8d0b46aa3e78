# Face X-ray (Li et al., CVPR 2020): HRNet-w48 (mmpretrain) at 256 px, its
# four branches upsampled to the first (1/4 resolution, 64x64) and
# concatenated (HRNetV2: 48 + 96 + 192 + 384 = 720 channels), a 1x1 conv
# predicting the face X-ray B, bilinearly upsampled to 256x256 + sigmoid.
# Target: B = 4 M (1 - M) of the target mask M blurred by a 3x3 Gaussian
# (sigma 0.8), all zeros for real faces. Loss: CE + 100 x BCE(B_pred, B).
# The real/fake classifier reads the predicted X-ray (2 conv blocks + GAP +
# FC; cls_input='features' pools the HRNetV2 representation instead).
# pred_map is the predicted blending BOUNDARY (map_mode='region' fills it).
model = dict(
    type='FaceXray',
    backbone=dict(
        type='mmpretrain.HRNet',
        arch='w48',
        # From scratch by default. ImageNet weights from mmpretrain's own
        # checkpoint, downloaded by hand to a local file
        # (hrnet-w48_3rdparty_8xb32_in1k_20220120-e555ef50.pth, mmpretrain
        # format: its 'backbone.' keys are loaded, neck/head ignored): add
        # init_cfg=dict(type='Pretrained', prefix='backbone',
        #               checkpoint='checkpoints/'
        #               'hrnet-w48_3rdparty_8xb32_in1k_20220120-e555ef50.pth')
    ),
    neck=dict(type='HRNetV2Concat', in_channels=(48, 96, 192, 384)),
    xray_head=dict(
        type='FaceXrayHead',
        in_channels=720,
        loss_weight=100.0,
        blur_kernel=3,
        blur_sigma=0.0,  # OpenCV's default for 3 taps: 0.8
        blur='always'),
    cls_input='xray',
    cls_channels=(32, 64),
    map_mode='boundary',
    num_classes=2,
    target_size=(256, 256),  # X-ray loss at the input resolution
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True),
)
