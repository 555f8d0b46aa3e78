# FoCus on FF++ HQ (c23); otherwise identical to vit-s_ffpp-lq.py.
_base_ = [
    '../_base_/models/focus_vit-s.py',
    '../_base_/datasets/ffpp-c23.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(pretrained='checkpoints/deit-s_mmfocus.pth'))
default_hooks = dict(checkpoint=dict(save_best='forgery/auc', rule='greater'))
