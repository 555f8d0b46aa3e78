# The CPU-sized PCL (configs/pcl/pcl-r18_demo-sbi.py) as an
# evaluation model of the demo map protocol: data, schedule and hooks of
# efb4-fpn_maps_demo-sbi.py (stored fakes whose mask_path the protocol
# points to each map source's maps).
_base_ = ['./efb4-fpn_maps_demo-sbi.py']
model = dict(
    _delete_=True,
    type='PCL',
    backbone=dict(type='mmpretrain.ResNet', depth=18, out_indices=(1, 3)),
    consistency_head=dict(type='PatchConsistencyHead', in_channels=128),
    cls_in_channels=512)
