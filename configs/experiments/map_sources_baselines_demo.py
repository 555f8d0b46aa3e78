# The maps of the paper's baseline detectors (MaDD, GFFD, UIA-ViT, Face X-ray;
# Tables I-II)
# beside FoCus's, on the demo data where the truth is known: every model
# trained from scratch on the same demo training split for the same budget
# (1,000 iterations of 16 real faces + their 16 own fakes), each source's maps
# of the 228 held-out test fakes and their real twins scored against the TRUE
# blend masks, overall and per region type, beside the position priors.
# Train the models first (about 10-20 minutes each on 2 CPU cores):
#   ONE_K="train_cfg.max_iters=1000 train_cfg.val_interval=250 \
#          param_scheduler.1.end=1000 param_scheduler.1.T_max=970 \
#          default_hooks.checkpoint.interval=1000"
#   python tools/train.py configs/focus/vit-demo_demo-sbi_1k.py \
#       --work-dir work_dirs/demo_1k/focus
#   python tools/train.py configs/gffd/gffd-tiny_demo-sbi.py \
#       --work-dir work_dirs/demo_1k/gffd --cfg-options $ONE_K
#   python tools/train.py configs/face-xray/face-xray_hrnet-tiny_demo-sbi.py \
#       --work-dir work_dirs/demo_1k/face-xray --cfg-options $ONE_K
#   python tools/train.py configs/madd/madd-efb0_demo-sbi.py \
#       --work-dir work_dirs/demo_1k/madd --cfg-options $ONE_K
#   python tools/train.py configs/uia-vit/uia-vit_mini_demo-sbi.py \
#       --work-dir work_dirs/demo_1k/uia-vit --cfg-options $ONE_K \
#       model.total_iters=1000
# Run: python tools/experiments/map_protocol.py \
#          configs/experiments/map_sources_baselines_demo.py
# A protocol spec (not a model config) for tools/experiments/map_protocol.py.
title = 'Baseline map sources on known-truth data (demo, CPU; NOT FF++)'
map_quality_title = ('Map quality against the true blend masks (demo test '
                     'split; NOT FF++)')
description = (
    'Every model was trained from scratch on the same demo training split '
    'for 1,000 iterations of 16 real faces beside their 16 own fakes; '
    'Face X-ray is supervised by the true blend masks (its boundary map '
    'marks where the blend ends, not the region); SSIM and pixel difference '
    'see the real twin and are oracles.')
work_dir = 'work_dirs/map_sources_baselines_demo'
data_root = 'data/demo_faces'
train_ann = 'train.json'
train_models = False  # map quality (and faithfulness) only

template = 'configs/experiments/efb4-fpn_maps_demo-sbi.py'
focus_model = dict(config='configs/focus/vit-demo_demo-sbi_1k.py',
                   checkpoint='work_dirs/demo_1k/focus/iter_1000.pth')
sources = [
    dict(name='focus', label='FoCus (CAR posterior maps)', config=template,
         maps=dict(source='focus', **focus_model)),
    dict(name='madd', label='MaDD: mean of the 4 attention maps',
         config=template,
         maps=dict(source='madd', config='configs/madd/madd-efb0_demo-sbi.py',
                   checkpoint='work_dirs/demo_1k/madd/iter_1000.pth')),
    dict(name='gffd', label='GFFD: residual-guided spatial attention',
         config=template,
         maps=dict(source='gffd', config='configs/gffd/gffd-tiny_demo-sbi.py',
                   checkpoint='work_dirs/demo_1k/gffd/iter_1000.pth')),
    dict(name='uia-vit', label='UIA-ViT: PCWA class-token attention',
         config=template,
         maps=dict(source='uia-vit',
                   config='configs/uia-vit/uia-vit_mini_demo-sbi.py',
                   checkpoint='work_dirs/demo_1k/uia-vit/iter_1000.pth',
                   cfg_options=['model.total_iters=1000'])),
    dict(name='face-xray', label='Face X-ray: predicted boundary '
         '(mask-supervised)', config=template,
         maps=dict(source='face-xray',
                   config='configs/face-xray/face-xray_hrnet-tiny_demo-sbi.py',
                   checkpoint='work_dirs/demo_1k/face-xray/iter_1000.pth')),
    dict(name='face-xray-region', label='Face X-ray: enclosed region',
         config=template,
         maps=dict(source='face-xray',
                   config='configs/face-xray/face-xray_hrnet-tiny_demo-sbi.py',
                   checkpoint='work_dirs/demo_1k/face-xray/iter_1000.pth',
                   cfg_options=['model.map_mode=region'])),
    dict(name='ssim', label='SSIM (oracle: sees the twin)', config=template,
         maps=dict(source='ssim')),
]
train = dict(max_iters=1, batch_size=1, num_workers=0, validate=False,
             cfg_options=[])
quick = dict(max_iters=1, batch_size=1, test_batch_size=8)
in_dataset = dict(name='Demo', ann_file='test.json')
cross_columns = ['CDF', 'WDF', 'DFDC', 'DFDCp']
cross_datasets = []
map_quality = dict(ann_file='test.json', region_prior_ann='train.json',
                   map_size=(56, 56), mask_thr=0.5, iou_thr=0.5)
faithfulness = dict(num_fakes=32, steps=10, blur_sigma=5.0, seed=0,
                    scorer=focus_model)
