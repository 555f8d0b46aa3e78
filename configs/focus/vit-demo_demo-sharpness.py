# Diagnostic of the Sobel branch: FoCus-demo trained and validated on
# self-blends whose source differs from the face ONLY in sharpness (a
# Gaussian blur or unsharp mask of sigma 2-4 px at the stored 224 px, i.e.
# about 0.6-1.1 px at the 64 px input; no colour change, no shift), so the
# cue lives in the image gradients that the Sobel view shows. Validation /
# test: the val / test split's real faces, each beside its own fake blended
# online (seeded). Per-branch losses and AUC: configs/focus/README.md#the-sobel-branch.
_base_ = ['./vit-demo_demo-sbi_1k.py']
cues = ('sharpness', )
sharpness_sigma = (2.0, 4.0)
train_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='SelfBlend', prob=0.5, cues=cues,
         sharpness_sigma=sharpness_sigma,
         regions=('face', 'eyes', 'nose', 'mouth', 'cheek-left',
                  'cheek-right', 'brows', 'random'),
         region_probs=(7, 1, 1, 1, 1, 1, 1, 1)),
    dict(type='RandomAffineFace', max_rotate=8, scale=(0.9, 1.1),
         max_shift=0.05, prob=0.8),
    dict(type='ResizeFace', scale=64),
    dict(type='RandomFaceFlip', prob=0.5),
    dict(type='PhotometricJitter', prob=0.8),
    dict(type='RandomJPEG', quality=(70, 100), prob=0.3),
    dict(type='PackFaceInputs'),
]
val_pipeline = [
    dict(type='LoadFace'),
    dict(type='LoadManipulationMask'),
    dict(type='SelfBlend', cues=cues,
         sharpness_sigma=sharpness_sigma,
         regions=('face', 'eyes', 'nose', 'mouth', 'cheek-left',
                  'cheek-right', 'brows', 'random'),
         region_probs=(7, 1, 1, 1, 1, 1, 1, 1)),
    dict(type='ResizeFace', scale=64),
    dict(type='PackFaceInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# each held-out real face beside its own fake, seeded by its index (37 val
# / 114 test pairs: 74 / 228 images; FaceForgeryDataset test_mode)
val_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    collate_fn=dict(type='mmfocus.flatten_collate'),
    dataset=dict(methods=(), paired_self_blend=True, pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    collate_fn=dict(type='mmfocus.flatten_collate'),
    dataset=dict(ann_file='test.json', methods=(), paired_self_blend=True,
                 pipeline=val_pipeline))
val_evaluator = [dict(type='ForgeryMetric')]
test_evaluator = val_evaluator
