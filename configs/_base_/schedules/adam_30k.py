# Sec. IV-A: Adam, lr 1e-4, batch 128 (8 GPUs x 16), 30,000 iterations,
# cosine decay.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=30000,
         T_max=30000, eta_min=0.)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=30000,
                 val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# `tools/train.py --auto-scale-lr` rescales lr to the real total batch.
auto_scale_lr = dict(base_batch_size=128)
