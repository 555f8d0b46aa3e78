# The no-map baseline row of the demo map protocol: the same CPU-sized model
# as efb4-fpn_maps_demo-sbi.py without its map branch (no FPN, no decoder,
# no map loss), like configs/multitask/efb4-fpn_none_ffpp-c40.py.
_base_ = ['./efb4-fpn_maps_demo-sbi.py']
model = dict(neck=None, decoder=None, map_weight=0.0)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
