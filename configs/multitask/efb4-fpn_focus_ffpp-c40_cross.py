# The Fig. 4 evaluation model supervised by FoCus maps on FF++ LQ
# (efb4-fpn_focus_ffpp-c40.py), tested in ONE run on the FF++ LQ test set
# and cross-dataset on Celeb-DF v2, WildDeepfake, DFDC and DFDC preview
# (Table I), one evaluator per set, metrics prefixed by the set's name
# (ffpp-c40/forgery/auc, celebdf-v2/auc, wdf/auc, dfdc/auc, dfdcp/auc):
#   python tools/test.py configs/multitask/efb4-fpn_focus_ffpp-c40_cross.py \
#       <ckpt>
# The other map sources inherit it the same way (change the first base).
_base_ = ['./efb4-fpn_focus_ffpp-c40.py', '../_base_/datasets/cross-test.py']
test_cfg = dict(type='MultiDatasetTestLoop', name='ffpp-c40',
                extra={{_base_.cross_test_sets}})
