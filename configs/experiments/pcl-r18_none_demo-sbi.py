# The no-map baseline of pcl-r18_maps_demo-sbi.py: the ResNet classifier
# without the PCL branch.
_base_ = ['./pcl-r18_maps_demo-sbi.py']
model = dict(consistency_head=None)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
