# FoCus trained on FF++ HQ (c23) (vit-s_ffpp-hq.py), tested in ONE run on
# the FF++ HQ test set and cross-dataset on Celeb-DF v2, DFDC, DFDC preview
# and WildDeepfake (Table VII), one evaluator per set, metrics prefixed by
# the set's name (ffpp-c23/forgery/auc, celebdf-v2/auc, dfdc/auc, dfdcp/auc,
# wdf/auc):
#   python tools/test.py configs/focus/vit-s_ffpp-hq_cross.py <ckpt>
# Training with this config is the same as with vit-s_ffpp-hq.py.
_base_ = ['./vit-s_ffpp-hq.py', '../_base_/datasets/cross-test.py']
test_cfg = dict(type='MultiDatasetTestLoop', name='ffpp-c23',
                extra={{_base_.cross_test_sets}})
