# A plain ViT-S/16 real/fake detector on FF++ LQ (c40): the network that
# GradCAM and ScoreCAM explain in Table VI ("on a trained ViT-S"). mmpretrain's
# ImageClassifier with mmfocus' FoCusViT backbone (learned position encoding,
# i.e. DeiT-S) and a linear head on the class token. Same data, schedule and
# DeiT-S initialisation as FoCus (configs/focus/vit-s_ffpp-lq.py). Run:
#   tools/dist_train.sh configs/vit/vit-s_ffpp-c40.py 8
_base_ = [
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(
        type='mmfocus.FoCusViT',
        arch='deit-s',
        img_size=224,
        patch_size=16,
        pos_embed='learned',
        drop_path_rate=0.1,
        # DeiT-S ImageNet weights converted from a local timm/DeiT file:
        #   python tools/model_converters/timm_vit_to_mmfocus.py \
        #       deit_small_patch16_224.pth checkpoints/deit-s_learned.pth \
        #       --pos-embed learned
        pretrained='checkpoints/deit-s_learned.pth'),
    neck=None,
    # The backbone returns (patch tokens, class token): the head reads the
    # last element, the class token. Class 0 real, 1 fake.
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=2,
        in_channels=384,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        num_classes=2,
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        to_rgb=True),
)
# A classifier: no manipulation map, so no map metric and no map dump.
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),
    dict(type='RNGStateHook'),
]
default_hooks = dict(checkpoint=dict(save_best='forgery/auc', rule='greater'))
