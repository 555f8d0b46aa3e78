# FoCus trained on FF++ LQ (c40) (vit-s_ffpp-lq.py), tested in ONE run on
# the FF++ LQ test set and cross-dataset on Celeb-DF v2, DFDC, DFDC preview
# and WildDeepfake, one evaluator per set, metrics prefixed by the set's name
# (ffpp-c40/forgery/auc, celebdf-v2/auc, dfdc/auc, dfdcp/auc, wdf/auc):
#   python tools/test.py configs/focus/vit-s_ffpp-lq_cross.py <ckpt>
_base_ = ['./vit-s_ffpp-lq.py', '../_base_/datasets/cross-test.py']
test_cfg = dict(type='MultiDatasetTestLoop', name='ffpp-c40',
                extra={{_base_.cross_test_sets}})
