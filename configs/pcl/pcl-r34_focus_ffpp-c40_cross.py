# PCL supervised by FoCus maps on FF++ LQ (pcl-r34_focus_ffpp-c40.py),
# tested in one run in-dataset and on Celeb-DF v2, WildDeepfake, DFDC and
# DFDC preview (Table III's columns), one evaluator per set:
#   python tools/test.py configs/pcl/pcl-r34_focus_ffpp-c40_cross.py <ckpt>
# Other map sources inherit it the same way (change the first base).
_base_ = ['./pcl-r34_focus_ffpp-c40.py', '../_base_/datasets/cross-test.py']
test_cfg = dict(type='MultiDatasetTestLoop', name='ffpp-c40',
                extra={{_base_.cross_test_sets}})
