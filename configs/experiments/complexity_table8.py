# Table VIII: computational complexity of FoCus and the compared detectors,
# full size, measured side by side on one device in one run:
#   python tools/analysis/complexity.py configs/experiments/complexity_table8.py \
#       --device cuda --batch-size 64 --amp bf16
# Each model at the input size of its FF++ config's test pipeline (FoCus
# 224, MaDD 380, GFFD / Xception 299, UIA-ViT 224, Face X-ray 256,
# EfficientNet-B4 + FPN 224). `published` names the published count the
# tests check for the model's backbone.
work_dir = 'work_dirs/complexity_table8'
baseline = 'FoCus'
batch_size = 32
models = [
    dict(name='FoCus', config='configs/focus/vit-s_ffpp-lq.py',
         published='2 x DeiT-S 22,050,664 with head (timm; tested)'),
    dict(name='MaDD', config='configs/madd/madd-efb4_ffpp-c40.py',
         published='EfficientNet-B4 19,341,616 with head (timm; tested)'),
    dict(name='GFFD', config='configs/gffd/gffd_ffpp-c40.py',
         published='2 x Xception 22,855,952 with head (timm; tested)'),
    dict(name='UIA-ViT', config='configs/uia-vit/uia-vit_vit-b_ffpp-c40.py',
         published='ViT-B/16 86,567,656 with head (timm; tested)'),
    dict(name='Xception', config='configs/xception/xception_ffpp-c40.py',
         published='Xception 22,855,952 with head (timm; tested)'),
    dict(name='Face X-ray',
         config='configs/face-xray/face-xray_hrnet-w48_ffpp-c40.py',
         published='HRNet-W48 stem + stages 65,325,120 = timm hrnet_w48 '
         'features (tested)'),
    dict(name='EfficientNet-B4 + FPN',
         config='configs/multitask/efb4-fpn_focus_ffpp-c40.py',
         published='EfficientNet-B4 19,341,616 with head (timm; tested)'),
]
