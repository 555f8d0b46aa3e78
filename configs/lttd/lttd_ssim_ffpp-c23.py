# LTTD trained with 'ssim' maps as patch targets on FF++ c23 clips: the
# training annotation (tools/generate_maps.py on the clip annotation) points
# each fake clip's clip_mask_paths to its frames' ssim maps.
_base_ = ['./lttd_mask_ffpp-c23.py']
train_dataloader = dict(dataset=dict(ann_file='train_maps-ssim.json'))
