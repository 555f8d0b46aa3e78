# The four cross-dataset test sets of FoCus (method.md section 3), as the
# `extra` sets of MultiDatasetTestLoop: Celeb-DF v2, DFDC (single-subject test
# videos), DFDC preview and WildDeepfake, each scored by its own
# ForgeryMetric with dataset-prefixed keys (celebdf-v2/auc, dfdc/auc,
# dfdcp/auc, wdf/auc). A cross-dataset config inherits this file next to its
# training config and names its own (FF++) test set:
#   _base_ = ['./vit-s_ffpp-hq.py', '../_base_/datasets/cross-test.py']
#   test_cfg = dict(type='MultiDatasetTestLoop', name='ffpp-c23',
#                   extra={{_base_.cross_test_sets}})
# Each set is made by its converter (tools/dataset_converters/), see
# docs/en/user_guides/dataset_prepare.md.
_base_ = ['./celebdf-v2.py', './dfdc.py', './dfdcp.py', './wdf.py']
cross_test_sets = [
    dict(name='celebdf-v2', dataset={{_base_.celebdf_v2_test_dataset}},
         evaluator={{_base_.celebdf_v2_test_evaluator}}),
    dict(name='dfdc', dataset={{_base_.dfdc_test_dataset}},
         evaluator={{_base_.dfdc_test_evaluator}}),
    dict(name='dfdcp', dataset={{_base_.dfdcp_test_dataset}},
         evaluator={{_base_.dfdcp_test_evaluator}}),
    dict(name='wdf', dataset={{_base_.wdf_test_dataset}},
         evaluator={{_base_.wdf_test_evaluator}}),
]
