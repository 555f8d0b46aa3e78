# Map sources compared on the demo data, where the truth is known (issue
# "maps that find the forgery"): each source's maps of the held-out test
# split against the TRUE blend masks, overall and per region type (whole
# face / eyes / nose / mouth / cheeks / brows / random landmark subsets),
# beside three position priors, plus deletion/insertion faithfulness.
# No evaluation model is trained (train_models=False): map quality only.
# Build the data first: python tools/misc/build_demo_data.py
# Run: python tools/experiments/map_protocol.py \
#          configs/experiments/map_sources_demo.py
# A protocol spec (not a model config) for tools/experiments/map_protocol.py.
title = 'Map sources on known-truth data (demo, CPU; NOT FF++)'
map_quality_title = ('Map quality against the true blend masks (demo test '
                     'split; NOT FF++)')
description = (
    'Every model was trained from scratch on the same demo training split '
    'with the same schedule (configs/_base_/schedules/adamw_demo-3k.py); '
    'SSIM and pixel difference see the real twin and are oracles, not '
    'competitors.')
work_dir = 'work_dirs/map_sources_demo'
data_root = 'data/demo_faces'
train_ann = 'train.json'
train_models = False  # map quality (and faithfulness) only

# unused with train_models=False, but every source names one
template = 'configs/experiments/efb4-fpn_maps_demo-sbi.py'
focus_model = dict(config='configs/focus/vit-demo_demo-sbi.py',
                   checkpoint='checkpoints/focus_vit-demo_demo-sbi.pth')
vit_model = dict(config='configs/vit/vit-demo_demo-sbi.py',
                 checkpoint='checkpoints/vit_vit-demo_demo-sbi.pth')
sources = [
    dict(name='focus', label='FoCus (CAR posterior maps)', config=template,
         maps=dict(source='focus', **focus_model)),
    # the same checkpoint with the paper's per-image min-max CAR maps (Eq. 4)
    dict(name='focus-minmax', label='FoCus (CAR maps, min-max)',
         config=template,
         maps=dict(source='focus', cfg_options=['model.map_norm=minmax'],
                   **focus_model)),
    # -CARP (Table VI): the same FoCus's class-token attention
    dict(name='attention', label='-CARP: ViT attention', config=template,
         maps=dict(source='attention',
                   cfg_options=['model.map_source=attention'],
                   **focus_model)),
    # the other ablations need their own training (same schedule):
    #   python tools/train.py configs/focus/vit-demo_demo-sbi_no-cl.py
    #   python tools/train.py configs/focus/vit-demo_demo-sbi_rgb-only.py
    dict(name='no-cl', label='-CL: max(A_rgb, A_sobel)', config=template,
         maps=dict(source='focus',
                   config='configs/focus/vit-demo_demo-sbi_no-cl.py',
                   checkpoint='work_dirs/vit-demo_demo-sbi_no-cl/'
                   'iter_3000.pth')),
    dict(name='rgb-only', label='RGB only', config=template,
         maps=dict(source='focus',
                   config='configs/focus/vit-demo_demo-sbi_rgb-only.py',
                   checkpoint='work_dirs/vit-demo_demo-sbi_rgb-only/'
                   'iter_3000.pth')),
    dict(name='gradcam', label='GradCAM (ViT detector)', config=template,
         maps=dict(source='gradcam', **vit_model)),
    dict(name='scorecam', label='ScoreCAM (ViT detector)', config=template,
         maps=dict(source='scorecam', **vit_model)),
    dict(name='ssim', label='SSIM (oracle: sees the twin)', config=template,
         maps=dict(source='ssim')),
    dict(name='pixdiff', label='pixel difference (oracle)', config=template,
         maps=dict(source='pixdiff')),
]
train = dict(max_iters=1, batch_size=1, num_workers=0, validate=False,
             cfg_options=[])
quick = dict(max_iters=1, batch_size=1, test_batch_size=8)
in_dataset = dict(name='Demo', ann_file='test.json')
cross_columns = ['CDF', 'WDF', 'DFDC', 'DFDCp']
cross_datasets = []
map_quality = dict(ann_file='test.json', region_prior_ann='train.json',
                   map_size=(56, 56), mask_thr=0.5, iou_thr=0.5)
# deletion / insertion on 32 test fakes; sources without a model of their
# own (SSIM, pixel difference) are scored by the FoCus detector
faithfulness = dict(num_fakes=32, steps=10, blur_sigma=5.0, seed=0,
                    scorer=focus_model)
