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
    dict(type='ResizeFace', scale=img_size),
    # Online pseudo-fakes: a new random blend every time a real is drawn
    # (after the resize: blending at the training size is 4x cheaper).
    dict(type='SelfBlend', prob=0.5),
    dict(type='RandomFaceFlip', prob=0.5),
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
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # methods=() keeps the real faces only: fakes are blended online.
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='train.json', methods=(),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='val.json', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='test.json', pipeline=test_pipeline,
                 test_mode=True))
val_evaluator = [dict(type='ForgeryMetric'), dict(type='MapQualityMetric')]
test_evaluator = val_evaluator
