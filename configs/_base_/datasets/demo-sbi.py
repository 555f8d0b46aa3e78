# The built-in demo data: real face photos shipped in demo/faces (dlib
# examples, see its README for attribution) detected and aligned offline,
# plus self-blended pseudo-fakes with their soft blend masks. NOT FF++.
# Build it with: python tools/misc/build_demo_data.py  (seconds)
dataset_type = 'FaceForgeryDataset'
data_root = 'data/demo_faces'
img_size = 112

train_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    # Online pseudo-fakes: a new random blend every time a real is drawn, at
    # the stored size (as the val/test fakes were made).
    dict(type='SelfBlend', prob=0.5),
    # With ~75 training faces a detector memorises the real images; jitter
    # both classes so that only the blending cues separate them.
    dict(type='RandomAffineFace', max_rotate=8, scale=(0.9, 1.1),
         max_shift=0.05, prob=0.8),
    dict(type='ResizeFace', scale=img_size),
    dict(type='RandomFaceFlip', prob=0.5),
    dict(type='PhotometricJitter', prob=0.8),
    dict(type='RandomJPEG', quality=(70, 100), prob=0.3),
    dict(type='PackFaceInputs'),
]
test_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=img_size),
    dict(type='PackFaceInputs'),
]

train_dataloader = dict(
    batch_size=32,
    collate_fn=dict(type='default_collate'),  # one stacked batch tensor
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # methods=() keeps the real faces only: fakes are blended online.
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='train.json', methods=(),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    collate_fn=dict(type='default_collate'),  # one stacked batch tensor
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='val.json', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = dict(
    batch_size=32,
    collate_fn=dict(type='default_collate'),  # one stacked batch tensor
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='test.json', pipeline=test_pipeline,
                 test_mode=True))
val_evaluator = [dict(type='ForgeryMetric'), dict(type='MapQualityMetric')]
test_evaluator = val_evaluator
