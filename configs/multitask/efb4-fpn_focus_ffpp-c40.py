# Fig. 4 evaluation model trained with 'focus' maps as targets on FF++ c40:
# only the training annotation differs between map sources. It is written
# by tools/generate_maps.py and points each training frame's mask_path to
# its focus map (reals: no map, i.e. an all-zero target).
_base_ = [
    '../_base_/models/efb4-fpn.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    dataset=dict(ann_file='train_maps-focus.json'))
