# CADDM (Table III) trained with 'gradcam' maps as targets on FF++ c40: the
# training annotation (written by tools/generate_maps.py) points each fake
# frame's mask_path to its gradcam map.
_base_ = [
    '../_base_/models/caddm_r34.py',
    '../_base_/datasets/ffpp-c40.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(dataset=dict(ann_file='train_maps-gradcam.json'))
