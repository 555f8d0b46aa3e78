# The no-branch baseline of caddm-r18_demo-sbi.py: the same ResNet-18, data
# and schedule without the CADDM branch (no map target, no map output).
_base_ = ['./caddm-r18_demo-sbi.py']
model = dict(adm_head=None)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=(64, 64)),
    dict(type='RNGStateHook'),
]
