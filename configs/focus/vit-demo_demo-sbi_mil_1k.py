# FoCus-demo, 1,000-iteration diagnostic schedule (vit-demo_demo-sbi_1k.py),
# with the CAR head's weakly supervised (multiple-instance) options, the
# lever against maps whose fake evidence is not on the blend
# (configs/focus/README.md#pooling-and-the-real-everywhere-loss has the
# runs): the fake logit is the top-k mean of each channel minus its spatial
# mean (how far the top 10 % of locations stand out from the rest of the
# same face, CARHead(pool='topk', pool_center=True), instead of the spatial
# max of Eq. 2), and every location of a real face is real
# (CARHead(real_loc_weight=1.0): cross-entropy of the per-location logits
# that the posterior map reads). Labels only, no mask.
_base_ = ['./vit-demo_demo-sbi_1k.py']
model = dict(head=dict(pool='topk', pool_r=5.0, pool_topk=0.1,
                       pool_center=True, real_loc_weight=1.0))
