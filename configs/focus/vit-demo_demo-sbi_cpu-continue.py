# Second stage of the shipped demo checkpoint: continue the GPU run of
# vit-demo_demo-sbi.py (stopped by its device-time limit after the
# checkpoint of iteration 1000 of 1500, see configs/focus/README.md) on CPU
# with a short cosine tail.
_base_ = ['./vit-demo_demo-sbi.py']
load_from = 'checkpoints/focus_vit-demo_demo-sbi.pth'  # the stage-1 weights
max_iters = 300
train_dataloader = dict(batch_size=32, num_workers=2)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters,
         T_max=max_iters, eta_min=1e-6),
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=100, max_keep_ckpts=3))
