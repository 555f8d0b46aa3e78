# The demo clips for video models: every real demo face under a small smooth
# motion (8 frames) and its self-blended pseudo-fake clip with per-frame
# masks. Real photos, NOT FF++ videos. Build them after the demo faces:
#   python tools/misc/build_demo_data.py && python tools/misc/build_demo_clips.py
dataset_type = 'FaceClipDataset'
data_root = 'data/demo_clips'
clip_len = 8
img_size = 64

train_pipeline = [
    dict(type='LoadClip'),
    dict(type='LoadClipMasks'),
    dict(type='ResizeClip', scale=img_size),
    dict(type='RandomClipFlip', prob=0.5),
    dict(type='PackClipInputs'),
]
test_pipeline = [
    dict(type='LoadClip'),
    dict(type='LoadClipMasks'),
    dict(type='ResizeClip', scale=img_size),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=16,
    collate_fn=dict(type='default_collate'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, clip_len=clip_len,
                 ann_file='train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    collate_fn=dict(type='default_collate'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, clip_len=clip_len,
                 ann_file='val.json', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = dict(
    batch_size=16,
    collate_fn=dict(type='default_collate'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, clip_len=clip_len,
                 ann_file='test.json', pipeline=test_pipeline,
                 test_mode=True))
# clip-level AUC, and video level (clips of one video_id averaged)
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
