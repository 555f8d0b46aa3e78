# The multi-task evaluation model of Fig. 4: EfficientNet-B4 backbone
# (mmpretrain), FPN neck + FPN decoder (mmsegmentation) predicting a 1-channel
# manipulation map at stride 4, and a classification head (GAP on the last
# backbone stage + linear, 2 classes). Loss: CE + 0.1 x BCE(map, target map
# resized bilinearly); real faces' targets are all zeros.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='MultiTaskDetector',
    backbone=dict(
        type='mmpretrain.EfficientNet',
        arch='b4',
        # strides 4, 8, 16, 32 for the FPN; 6 = the final 1x1 conv (1792 ch)
        # for the classifier.
        out_indices=(2, 3, 4, 5, 6),
        drop_path_rate=0.2,
        # From scratch by default. For ImageNet weights, convert a local
        # file with tools/model_converters/tv_efficientnet_to_mmpretrain.py
        # and add (configs/multitask/README.md) e.g.
        # init_cfg=dict(type='Pretrained', prefix='backbone',
        #               checkpoint='checkpoints/efb4_tf.pth')
    ),
    neck=dict(
        type='mmseg.FPN',
        in_channels=[32, 56, 160, 448],
        out_channels=256,
        num_outs=4),
    decoder=dict(
        type='mmseg.FPNHead',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128,
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,  # one map channel: sigmoid / BCE
        threshold=0.5,
        norm_cfg=norm_cfg,
        align_corners=False),
    neck_in_indices=(0, 1, 2, 3),
    cls_in_index=-1,
    cls_in_channels=1792,
    num_classes=2,
    map_weight=0.1,
    channels_last=False,
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True),
)
