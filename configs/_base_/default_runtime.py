# Runtime defaults shared by every mmfocus config.
default_scope = 'mmfocus'
custom_imports = dict(imports=['mmfocus'], allow_failed_imports=False)

default_hooks = dict(
    # mmengine's RuntimeInfoHook, reading the loss terms back to the host
    # once per logger interval instead of every iteration (same logs)
    runtime_info=dict(type='DeferredRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                    interval=2000, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# FLOPs / params of the whole model, written to <work_dir>/flops.json and the
# log before training; manipulation maps dumped during `tools/test.py`.
custom_hooks = [
    dict(type='FlopsProfileHook', input_shape=None),  # the model's size
    dict(type='ManipulationMapHook', out_dir='maps', max_samples=None),
    dict(type='RNGStateHook'),  # exact resume
]

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False, window_size=50)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
