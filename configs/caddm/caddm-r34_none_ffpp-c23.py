# The plain ResNet-34 classifier (no CADDM branch, no map loss) on FF++ c23.
_base_ = [
    '../_base_/models/caddm_r34.py',
    '../_base_/datasets/ffpp-c23.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
model = dict(adm_head=None)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
