# vit-demo_demo-sbi_rgb-mil.py (one RGB branch, centred top-k pooling +
# real-everywhere location loss) on a schedule twice as long: 6,000
# iterations, the same 200-iteration warm-up and cosine decay, validation
# every 1,000 (about 22 minutes on 2 CPU cores). The schedule-length lever of
# issue 10: configs/focus/README.md#one-rgb-branch-with-the-pooling-lever.
_base_ = ['./vit-demo_demo-sbi_rgb-mil.py']
max_iters = 6000
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=200,
         start_factor=0.01),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=200, end=max_iters,
         T_max=max_iters - 200, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=1000)
