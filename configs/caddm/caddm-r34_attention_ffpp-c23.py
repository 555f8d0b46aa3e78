# CADDM (Table III) trained with 'attention' maps as targets on FF++ c23: the
# training annotation (written by tools/generate_maps.py) points each fake
# frame's mask_path to its attention map.
_base_ = [
    '../_base_/models/caddm_r34.py',
    '../_base_/datasets/ffpp-c23.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(dataset=dict(ann_file='train_maps-attention.json'))
