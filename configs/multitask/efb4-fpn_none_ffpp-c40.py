# No-map baseline of Tables I/II/VI: the EfficientNet-B4 classifier alone
# (no FPN, no decoder, no map loss) on FF++ c40, evaluated by ForgeryMetric.
_base_ = [
    '../_base_/models/efb4-fpn.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
model = dict(neck=None, decoder=None, map_weight=0.0)
# no predicted map: evaluate and dump classification only
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),
    dict(type='RNGStateHook'),
]
