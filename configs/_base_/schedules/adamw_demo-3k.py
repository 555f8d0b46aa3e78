# The demo schedule (CPU-sized, the same for every demo map source so that
# they are compared at one budget): AdamW lr 5e-4, wd 0.05, 200-iteration
# warm-up, cosine to 3,000 iterations, validation every 500 (the configs
# set batch 16 real faces + their 16 own fakes).
max_iters = 3000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999),
                   weight_decay=0.05),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=200,
         start_factor=0.01),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=200, end=max_iters,
         T_max=max_iters - 200, eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
