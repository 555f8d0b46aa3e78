# FaceForensics++ LQ (c40), face crops and annotations made by
# tools/dataset_converters/ffpp.py (official 720/140/140 video split; methods
# Deepfakes, Face2Face, FaceSwap, NeuralTextures; 10 frames per video).
dataset_type = 'FaceForgeryDataset'
data_root = 'data/ffpp/c40'
img_size = 224

# FoCus trains with labels only; the multi-task configs load the map targets
# through LoadManipulationMask (FoCusDataPreprocessor drops masks in training).
train_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='ResizeFace', scale=img_size),
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
    batch_size=16,  # x 8 GPUs = 128 (the paper's batch)
    collate_fn=dict(type='default_collate'),  # one stacked batch tensor
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    collate_fn=dict(type='default_collate'),  # one stacked batch tensor
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='val.json', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = dict(
    batch_size=64,
    collate_fn=dict(type='default_collate'),  # one stacked batch tensor
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='test.json', pipeline=test_pipeline,
                 test_mode=True))
val_evaluator = [
    dict(type='ForgeryMetric'),
    dict(type='MapQualityMetric'),  # uses FF++ masks/videos when converted
]
test_evaluator = val_evaluator
