# The map-source protocol (paper Tables I/II) on the built-in demo data
# (real photos + self-blended fakes with TRUE blend masks; NOT FF++), sized
# for a CPU: EfficientNet-B0 + narrow FPN at 64 px, 40 iterations per source.
# Build the data first: python tools/misc/build_demo_data.py
# Run: python tools/experiments/map_protocol.py \
#          configs/experiments/map_protocol_demo.py
# A protocol spec (not a model config) for tools/experiments/map_protocol.py.
title = 'Map sources as training targets (demo data, CPU-sized; NOT FF++)'
description = (
    'Rows: the map source the multi-task model (EfficientNet-B0 + FPN, 64 '
    'px, from scratch) was trained with; a few dozen iterations on ~150 '
    'demo faces: a check that the protocol runs end to end, not a result '
    'about FF++.')
work_dir = 'work_dirs/map_protocol_demo'
data_root = 'data/demo_faces'
train_ann = 'train.json'  # maps are written for this annotation's fakes

template = 'configs/experiments/efb4-fpn_maps_demo-sbi.py'
focus_model = dict(config='configs/focus/vit-demo_demo-sbi.py',
                   checkpoint='checkpoints/focus_vit-demo_demo-sbi.pth')
vit_model = dict(config='configs/vit/vit-demo_demo-sbi.py',
                 checkpoint='work_dirs/vit-demo_demo-sbi/iter_1500.pth')
sources = [
    # no map branch, no map loss
    dict(name='none', label='none (no map)',
         config='configs/experiments/efb4-fpn_none_demo-sbi.py', maps=None),
    # the demo data's true blend masks: the upper bound of any map source
    dict(name='mask', label='true blend mask (oracle)', config=template,
         maps='annotation'),
    dict(name='focus', label='FoCus', config=template,
         maps=dict(source='focus', **focus_model)),
    dict(name='ssim', label='SSIM', config=template,
         maps=dict(source='ssim')),
    dict(name='pixdiff', label='pixel difference', config=template,
         maps=dict(source='pixdiff')),
    dict(name='pixdiff-thr0.1', label='pixel difference > 0.1',
         config=template, maps=dict(source='pixdiff-thr0.1')),
    # -CARP (Table VI): the class-token self-attention of the same FoCus;
    # map_source changes the map only, not the training, so the shipped
    # checkpoint serves
    dict(name='attention', label='ViT attention (-CARP)', config=template,
         maps=dict(source='attention',
                   cfg_options=['model.map_source=attention'],
                   **focus_model)),
    # GradCAM / ScoreCAM of a plain ViT detector. No checkpoint is shipped:
    # train it first (python tools/train.py configs/vit/vit-demo_demo-sbi.py,
    # its default work dir), else these rows read "n/a (needs checkpoint)".
    dict(name='gradcam', label='GradCAM (ViT)', config=template,
         maps=dict(source='gradcam', **vit_model)),
    dict(name='scorecam', label='ScoreCAM (ViT)', config=template,
         maps=dict(source='scorecam', **vit_model)),
]

# training overrides for every source (the config's own schedule is scaled
# to max_iters); validation is off: the final checkpoint is tested
train = dict(max_iters=40, batch_size=16, num_workers=0, validate=False,
             cfg_options=[])
# --quick: a smoke run (work dir <work_dir>_quick)
quick = dict(max_iters=2, batch_size=4, test_batch_size=8)

# test sets: in-dataset (Acc, AUC) and the paper's cross-dataset columns
in_dataset = dict(name='Demo', ann_file='test.json')
cross_columns = ['CDF', 'WDF', 'DFDC', 'DFDCp']
cross_datasets = []  # the demo has none: every column reads "n/a"

# map quality of each source's maps against the true masks of this split
# (region_prior_ann: the per-region-type prior, from the training masks)
map_quality = dict(ann_file='test.json', region_prior_ann='train.json',
                   map_size=(56, 56), mask_thr=0.5,
                   iou_thr=0.5)
