# Table III's layout on the built-in demo data (CPU-sized; NOT FF++): every
# evaluation model x every map source, rows "<detector> / <map source>":
# EfficientNet-B0 + FPN, PCL (ResNet-18), CADDM (ResNet-18) on the demo
# faces at 64 px and the video model LTTD on the demo clips, each trained
# 40 iterations on no map, the true blend masks and pixel-difference maps.
# Build the data first:
#   python tools/misc/build_demo_data.py && python tools/misc/build_demo_clips.py
# Run: python tools/experiments/map_protocol.py \
#          configs/experiments/map_protocol_detectors_demo.py
# A protocol spec (not a model config) for tools/experiments/map_protocol.py.
_base_ = ['./map_protocol_demo.py']
title = ('Table III layout: detectors x map sources (demo data, CPU-sized; '
         'NOT FF++)')
description = (
    'Rows: evaluation model / the map source its auxiliary branch was '
    'trained with; 40 iterations from scratch on the demo data (frames: '
    '~225 real faces + their stored self-blends; LTTD: 8-frame clips of the '
    'same faces): a check that every detector takes every map source end '
    'to end, not a result about FF++.')
work_dir = 'work_dirs/map_protocol_detectors_demo'
sources = [
    dict(name='none', label='none (no map)', maps=None),
    dict(name='mask', label='true blend mask (oracle)', maps='annotation'),
    dict(name='pixdiff', label='pixel difference',
         maps=dict(source='pixdiff')),
]
detectors = [
    # the first detector's rows give the map-quality table
    dict(name='efb4-fpn', label='EfficientNet-B0 + FPN',
         config='configs/experiments/efb4-fpn_maps_demo-sbi.py',
         none_config='configs/experiments/efb4-fpn_none_demo-sbi.py'),
    dict(name='pcl', label='PCL (ResNet-18)',
         config='configs/experiments/pcl-r18_maps_demo-sbi.py',
         none_config='configs/experiments/pcl-r18_none_demo-sbi.py'),
    dict(name='caddm', label='CADDM (ResNet-18)',
         config='configs/experiments/caddm-r18_maps_demo-sbi.py',
         none_config='configs/experiments/caddm-r18_none_demo-sbi.py'),
    # a video model: its own data (clips of the same faces), maps per frame
    dict(name='lttd', label='LTTD (tiny, clips)',
         config='configs/lttd/lttd-tiny_demo-clips.py',
         none_config='configs/lttd/lttd-tiny_none_demo-clips.py',
         data_root='data/demo_clips', train_ann='train.json',
         in_dataset=dict(ann_file='test.json'), cross_datasets=[]),
]
