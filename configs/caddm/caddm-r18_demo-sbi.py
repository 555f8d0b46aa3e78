# A CPU-sized CADDM on the built-in demo data (real photos + self-blended
# fakes, NOT FF++), its artefact boxes from the fakes' TRUE blend masks:
# ResNet-18 at 64 px with strides (1, 2, 1, 1) so that the last stage is
# 8x8 (detection levels 8, 6, 4, 2), from scratch; data, schedule and hooks
# of configs/multitask/efb4-fpn_demo-sbi.py.
# Build the data first: python tools/misc/build_demo_data.py
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
model = dict(
    _delete_=True,
    type='CADDM',
    backbone=dict(type='mmpretrain.ResNet', depth=18, out_indices=(3, ),
                  strides=(1, 2, 1, 1)),
    adm_head=dict(type='ArtifactDetectionHead', in_channels=512),
    cls_in_channels=512)
