# The built-in demo data: real face photos shipped in demo/faces (dlib
# examples, see its README for attribution) detected and aligned offline,
# plus self-blended pseudo-fakes with their soft blend masks. NOT FF++.
# Build it with: python tools/misc/build_demo_data.py  (seconds)
dataset_type = 'FaceForgeryDataset'
data_root = 'data/demo_faces'
img_size = 64

train_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    # Online pseudo-fakes: a new random blend every time a real is drawn, at
    # the stored size (as the val/test fakes were made); half of the whole
    # face, half of one facial region (eyes, nose, mouth, a cheek,
    # brows/forehead, a random landmark subset), as stored for val/test.
    dict(type='SelfBlend', prob=0.5,
         regions=('face', 'eyes', 'nose', 'mouth', 'cheek-left',
                  'cheek-right', 'brows', 'random'),
         region_probs=(7, 1, 1, 1, 1, 1, 1, 1)),
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
    # 32 real faces, each beside its own fake: 64 images per batch
    batch_size=32,
    collate_fn=dict(type='mmfocus.flatten_collate'),  # pairs -> 1 batch
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    # methods=() keeps the real faces only: fakes are blended online, and
    # paired_self_blend puts each real and its own fake (same augmentation)
    # in the same batch, as Self-Blended Images trains.
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='train.json', methods=(), paired_self_blend=True,
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
# map quality overall and per region type (method 'sbi', 'sbi-mouth', ...),
# beside the position priors; prior_region = the mean *training* mask of each
# region type (train.json under the evaluated dataset's data_root)
val_evaluator = [
    dict(type='ForgeryMetric'),
    dict(type='MapQualityMetric', region_prior_ann='train.json'),
]
test_evaluator = val_evaluator
