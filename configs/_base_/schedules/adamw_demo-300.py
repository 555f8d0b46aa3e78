# The short CPU schedule of the demo evaluation models (EfficientNet-B0 +
# FPN, PCL, CADDM, LTTD demo configs): AdamW lr 1e-3, wd 0.01, clip 5,
# 30-iteration warm-up, cosine to 300 iterations, validation every 100.
max_iters = 300
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.01),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', by_epoch=False, begin=0, end=30,
         start_factor=0.01),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=30, end=max_iters,
         T_max=max_iters - 30, eta_min=1e-6),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
