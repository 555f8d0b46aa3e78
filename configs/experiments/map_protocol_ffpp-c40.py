# The paper's map-source protocol (Tables I/II) on FF++ LQ (c40): one
# EfficientNet-B4 + FPN per map source (configs/multitask/), tested on FF++
# (Acc, AUC) and cross-dataset (AUC). 8 GPUs:
#   torchrun --nproc_per_node 8 tools/experiments/map_protocol.py \
#       configs/experiments/map_protocol_ffpp-c40.py --launcher pytorch
# Needs: FF++ crops (tools/dataset_converters/ffpp.py) in data/ffpp/c40, a
# trained FoCus (configs/focus/vit-s_ffpp-lq.py) for the focus / attention
# maps, a ViT-S detector (configs/vit/vit-s_ffpp-c40.py) for GradCAM /
# ScoreCAM, the cross-dataset sets where converted. A source whose map model
# checkpoint is missing is listed as "n/a (needs checkpoint: ...)", a
# missing test set as "n/a (not found: ...)".
# A protocol spec (not a model config) for tools/experiments/map_protocol.py.
title = 'Map sources as training targets: FF++ (LQ, c40)'
description = ('EfficientNet-B4 + FPN (Fig. 4), CE + 0.1 BCE, 30k '
               'iterations, batch 8 x 16; frame level.')
work_dir = 'work_dirs/map_protocol_ffpp-c40'
data_root = 'data/ffpp/c40'
train_ann = 'train.json'

mt = 'configs/multitask/efb4-fpn_{name}_ffpp-c40.py'
vit_model = dict(config='configs/vit/vit-s_ffpp-c40.py',
                 checkpoint='work_dirs/vit-s_ffpp-c40/iter_30000.pth',
                 batch_size=64)
sources = [
    dict(name='none', label='none (no map)', config=mt, maps=None),
    dict(name='focus', label='FoCus', config=mt,
         maps=dict(source='focus', config='configs/focus/vit-s_ffpp-lq.py',
                   checkpoint='work_dirs/vit-s_ffpp-lq/iter_30000.pth',
                   batch_size=64)),
    dict(name='ssim', label='SSIM', config=mt, maps=dict(source='ssim')),
    dict(name='pixdiff', label='pixel difference', config=mt,
         maps=dict(source='pixdiff')),
    dict(name='pixdiff-thr0.1', label='pixel difference > 0.1', config=mt,
         maps=dict(source='pixdiff-thr0.1')),
    # GradCAM / ScoreCAM of a ViT-S detector (configs/vit/vit-s_ffpp-c40.py)
    dict(name='gradcam', label='GradCAM (ViT-S)', config=mt,
         maps=dict(source='gradcam', **vit_model)),
    dict(name='scorecam', label='ScoreCAM (ViT-S)', config=mt,
         maps=dict(source='scorecam', **vit_model)),
    # -CARP (Table VI): the class-token attention map of FoCus; map_source
    # changes only the map, so the FoCus checkpoint serves
    dict(name='attention', label='ViT attention (-CARP)', config=mt,
         maps=dict(source='attention',
                   config='configs/focus/vit-s_ffpp-lq_no-carp.py',
                   checkpoint='work_dirs/vit-s_ffpp-lq/iter_30000.pth',
                   batch_size=64)),
]

# the configs' own schedule (30k iterations) and batch
train = dict(validate=False, cfg_options=[])
quick = dict(max_iters=20, batch_size=4, test_batch_size=16)

in_dataset = dict(name='FF++ (LQ)', ann_file='test.json')
cross_columns = ['CDF', 'WDF', 'DFDC', 'DFDCp']
# made by tools/dataset_converters/ (data roots of configs/_base_/datasets/
# {celebdf-v2,wdf,dfdc,dfdcp}.py); a set not converted reads "n/a (not found)"
cross_datasets = [
    dict(name='CDF', data_root='data/celebdf-v2', ann_file='test.json'),
    dict(name='WDF', data_root='data/wdf', ann_file='test.json'),
    dict(name='DFDC', data_root='data/dfdc', ann_file='test.json'),
    dict(name='DFDCp', data_root='data/dfdcp', ann_file='test.json'),
]

# FF++ ships manipulation masks: converted into mask_path of test.json
map_quality = dict(ann_file='test.json', map_size=(56, 56), mask_thr=0.5,
                   iou_thr=0.5)
