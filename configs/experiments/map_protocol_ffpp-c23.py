# The map-source protocol on FF++ HQ (c23): map_protocol_ffpp-c40.py with
# the c23 data, configs and FoCus model (configs/focus/vit-s_ffpp-hq.py).
#   torchrun --nproc_per_node 8 tools/experiments/map_protocol.py \
#       configs/experiments/map_protocol_ffpp-c23.py --launcher pytorch
# A protocol spec (not a model config) for tools/experiments/map_protocol.py.
_base_ = ['./map_protocol_ffpp-c40.py']
title = 'Map sources as training targets: FF++ (HQ, c23)'
work_dir = 'work_dirs/map_protocol_ffpp-c23'
data_root = 'data/ffpp/c23'
mt = 'configs/multitask/efb4-fpn_{name}_ffpp-c23.py'
vit_model = dict(config='configs/vit/vit-s_ffpp-c23.py',
                 checkpoint='work_dirs/vit-s_ffpp-c23/iter_30000.pth',
                 batch_size=64)
sources = [
    dict(name='none', label='none (no map)', config=mt, maps=None),
    dict(name='focus', label='FoCus', config=mt,
         maps=dict(source='focus', config='configs/focus/vit-s_ffpp-hq.py',
                   checkpoint='work_dirs/vit-s_ffpp-hq/iter_30000.pth',
                   batch_size=64)),
    dict(name='ssim', label='SSIM', config=mt, maps=dict(source='ssim')),
    dict(name='pixdiff', label='pixel difference', config=mt,
         maps=dict(source='pixdiff')),
    dict(name='pixdiff-thr0.1', label='pixel difference > 0.1', config=mt,
         maps=dict(source='pixdiff-thr0.1')),
    dict(name='gradcam', label='GradCAM (ViT-S)', config=mt,
         maps=dict(source='gradcam', **vit_model)),
    dict(name='scorecam', label='ScoreCAM (ViT-S)', config=mt,
         maps=dict(source='scorecam', **vit_model)),
    dict(name='attention', label='ViT attention (-CARP)', config=mt,
         maps=dict(source='attention',
                   config='configs/focus/vit-s_ffpp-hq.py',
                   cfg_options=['model.map_source=attention'],
                   checkpoint='work_dirs/vit-s_ffpp-hq/iter_30000.pth',
                   batch_size=64)),
]
in_dataset = dict(name='FF++ (HQ)', ann_file='test.json')
