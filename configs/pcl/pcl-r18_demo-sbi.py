# A CPU-sized PCL on the built-in demo data (real photos + self-blended
# fakes, NOT FF++), its consistency targets from the fakes' TRUE blend masks:
# ResNet-18 at 64 px, the branch on the second stage (128 ch, 8x8 patches),
# from scratch; data, schedule and hooks of configs/multitask/
# efb4-fpn_demo-sbi.py. Build the data first: python tools/misc/build_demo_data.py
_base_ = ['../multitask/efb4-fpn_demo-sbi.py']
model = dict(
    _delete_=True,
    type='PCL',
    backbone=dict(type='mmpretrain.ResNet', depth=18, out_indices=(1, 3)),
    consistency_head=dict(type='PatchConsistencyHead', in_channels=128),
    cls_in_channels=512)
