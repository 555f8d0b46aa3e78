# FoCus, two ViT-S/16 branches, trained on FF++ LQ (c40), 8 GPUs x 16 images,
# 30k iterations (Sec. IV-A). Run:
#   tools/dist_train.sh configs/focus/vit-s_ffpp-lq.py 8
_base_ = [
    '../_base_/models/focus_vit-s.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
# DeiT-S ImageNet initialisation, converted from a local timm/DeiT file:
#   python tools/model_converters/timm_vit_to_mmfocus.py \
#       deit_small_patch16_224.pth checkpoints/deit-s_mmfocus.pth
model = dict(backbone=dict(pretrained='checkpoints/deit-s_mmfocus.pth'))
default_hooks = dict(checkpoint=dict(save_best='forgery/auc', rule='greater'))
