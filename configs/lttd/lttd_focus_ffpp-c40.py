# LTTD trained with 'focus' maps as patch targets on FF++ c40 clips: the
# training annotation (tools/generate_maps.py on the clip annotation) points
# each fake clip's clip_mask_paths to its frames' focus maps.
_base_ = ['./lttd_mask_ffpp-c40.py']
train_dataloader = dict(dataset=dict(ann_file='train_maps-focus.json'))
