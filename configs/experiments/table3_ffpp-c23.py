# Table III on FF++ (c23): every evaluation model (EfficientNet-B4 + FPN, PCL,
# CADDM, LTTD) x every map source of map_protocol_ffpp-c23.py, rows
# "<detector> / <map source>", columns FF++ Acc/AUC and the cross-dataset
# AUCs (LTTD: in-dataset on FF++ clips only, no clip versions of the cross
# sets are configured). Needs the converted FF++ frames and clips and GPUs:
#   torchrun --nproc_per_node 8 tools/experiments/map_protocol.py \
#       configs/experiments/table3_ffpp-c23.py --launcher pytorch
# A protocol spec (not a model config) for tools/experiments/map_protocol.py.
_base_ = ['./map_protocol_ffpp-c23.py']
title = 'Table III: detectors supervised by each map source (FF++ c23)'
work_dir = 'work_dirs/table3_ffpp-c23'
detectors = [
    dict(name='efb4-fpn', label='EfficientNet-B4 + FPN',
         config='configs/multitask/efb4-fpn_{name}_ffpp-c23.py'),
    dict(name='pcl', label='PCL',
         config='configs/pcl/pcl-r34_{name}_ffpp-c23.py'),
    dict(name='caddm', label='CADDM',
         config='configs/caddm/caddm-r34_{name}_ffpp-c23.py'),
    dict(name='lttd', label='LTTD',
         config='configs/lttd/lttd_{name}_ffpp-c23.py',
         data_root='data/ffpp_clips/c23', train_ann='train.json',
         in_dataset=dict(ann_file='test.json'), cross_datasets=[]),
]
