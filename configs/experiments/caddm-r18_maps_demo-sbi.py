# The CPU-sized CADDM (configs/caddm/caddm-r18_demo-sbi.py) as an
# evaluation model of the demo map protocol: data, schedule and hooks of
# efb4-fpn_maps_demo-sbi.py (stored fakes whose mask_path the protocol
# points to each map source's maps).
_base_ = ['./efb4-fpn_maps_demo-sbi.py']
model = dict(
    _delete_=True,
    type='CADDM',
    backbone=dict(type='mmpretrain.ResNet', depth=18, out_indices=(3, ),
                  strides=(1, 2, 1, 1)),
    adm_head=dict(type='ArtifactDetectionHead', in_channels=512),
    cls_in_channels=512)
