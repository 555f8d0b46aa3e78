# LTTD on FF++ c23 clips with the dataset's own masks as patch targets (the
# converter's per-frame mask crops; LTTD's original pixel-difference labels
# are the 'pixdiff' row): the clip annotation's clip_mask_paths.
_base_ = [
    '../_base_/models/lttd.py',
    '../_base_/datasets/ffpp-c23_clips.py',
    '../_base_/schedules/adam_30k.py',
    '../_base_/default_runtime.py',
]
