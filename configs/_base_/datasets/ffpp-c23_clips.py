# FaceForensics++ c23 as clips for video models (LTTD): 8 consecutive
# frames of one face track, 4 clips per video, one fixed crop per clip,
# converted with
#   python tools/dataset_converters/ffpp.py <FF++ root> data/ffpp_clips \
#       -c c23 --clips 4 --clip-len 8
dataset_type = 'FaceClipDataset'
data_root = 'data/ffpp_clips/c23'
clip_len = 8
img_size = 224

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
    batch_size=4,  # x 8 GPUs = 32 clips
    collate_fn=dict(type='default_collate'),
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, clip_len=clip_len,
                 ann_file='train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='default_collate'),
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, clip_len=clip_len,
                 ann_file='val.json', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='default_collate'),
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, clip_len=clip_len,
                 ann_file='test.json', pipeline=test_pipeline,
                 test_mode=True))
val_evaluator = [dict(type='ForgeryMetric')]  # clip and video level
test_evaluator = val_evaluator
