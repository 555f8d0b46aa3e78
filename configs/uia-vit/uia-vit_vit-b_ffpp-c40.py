# UIA-ViT (Zhuang et al., ECCV 2022) on FF++ LQ (c40) at 224 px with the FoCus
# data split and schedule (Adam 1e-4, batch 128 = 8 x 16, 30k iterations,
# cosine); total_iters of the model = the schedule's max_iters. No map
# targets are used (UPCL is unsupervised); its pred_map (the class token's
# PCWA attention) is scored by the map metric. Run:
#   tools/dist_train.sh configs/uia-vit/uia-vit_vit-b_ffpp-c40.py 8
_base_ = [
    '../_base_/models/uia-vit_vit-b.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
model = dict(total_iters=30000)
default_hooks = dict(checkpoint=dict(save_best='forgery/auc', rule='greater'))
