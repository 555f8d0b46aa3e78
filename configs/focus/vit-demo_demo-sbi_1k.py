# FoCus-demo with a 1,000-iteration diagnostic schedule (the demo recipe,
# adamw_demo-3k.py, cut to 1,000 iterations: 100-iteration warm-up, cosine to
# 1,000, validation every 250): the baseline of the Sobel-normalisation
# comparison (vit-demo_demo-sbi_sobel-fixed_1k.py) and of the single-cue
# diagnostics (vit-demo_demo-{sharpness,colour}.py);
# configs/focus/README.md#the-sobel-branch.
_base_ = ['./vit-demo_demo-sbi.py']
max_iters = 1000
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=100,
         start_factor=0.01),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters,
         T_max=max_iters - 100, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=250)
default_hooks = dict(checkpoint=dict(interval=1000, max_keep_ckpts=1))
custom_hooks = [dict(type='RNGStateHook')]
