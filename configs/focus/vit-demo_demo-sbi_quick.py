# The demo's short CPU run: the same model and data as vit-demo_demo-sbi.py,
# a few dozen iterations to show the training loop, validation, checkpoints
# and hooks working end to end (from scratch it stays near chance; the demo
# then evaluates the shipped checkpoint).
_base_ = ['./vit-demo_demo-sbi.py']
max_iters = 30
train_dataloader = dict(batch_size=16)
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=10,
         start_factor=0.1),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=10, end=max_iters,
         T_max=max_iters - 10, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=max_iters))
