# The no-map baseline of caddm-r18_maps_demo-sbi.py: the ResNet classifier
# without the CADDM branch.
_base_ = ['./caddm-r18_maps_demo-sbi.py']
model = dict(adm_head=None)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
