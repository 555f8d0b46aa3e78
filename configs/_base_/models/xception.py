# Xception (Chollet, CVPR 2017), the FaceForensics++ baseline (Rössler et
# al., ICCV 2019): mmpretrain's ImageClassifier with mmfocus' Xception
# backbone (arch 'legacy' = timm's legacy_xception), global average pooling
# and a linear 2-class head (0 real, 1 fake), cross-entropy. 299 px input,
# Xception's normalisation (mean = std = 127.5).
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(
        type='mmfocus.Xception',
        arch='legacy',
        img_size=299,
        out_indices=(5, ),
        # From scratch by default. ImageNet weights from a local timm file:
        #   python tools/model_converters/timm_xception_to_mmfocus.py \
        #       xception-43020ad28.pth checkpoints/xception_timm.pth
        # and add
        # init_cfg=dict(type='Pretrained', prefix='backbone',
        #               checkpoint='checkpoints/xception_timm.pth')
    ),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=2,
        in_channels=2048,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=2,
        mean=(127.5, 127.5, 127.5),
        std=(127.5, 127.5, 127.5),
        to_rgb=True),
)
