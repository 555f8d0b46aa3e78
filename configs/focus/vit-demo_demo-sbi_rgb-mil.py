# FoCus-demo with one RGB branch (vit-demo_demo-sbi_rgb-only.py: no Sobel
# branch, no CL) and the CAR head's weakly supervised options of
# vit-demo_demo-sbi_mil_1k.py (centred top-k pooling + real-everywhere
# location loss), on the full demo schedule (3,000 iterations). Under these
# options the Sobel branch learns nothing and the CL block swaps its flat
# map into the fused one; without it the maps keep their within-face
# ranking over the longer schedule (configs/focus/README.md#pooling-and-the-
# real-everywhere-loss has the runs). Labels only, no mask.
_base_ = ['./vit-demo_demo-sbi_rgb-only.py']
model = dict(head=dict(pool='topk', pool_r=5.0, pool_topk=0.1,
                       pool_center=True, real_loc_weight=1.0))
