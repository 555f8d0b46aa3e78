# Fig. 4 evaluation model with 'pixdiff-thr0.1' maps as targets on FF++ c40: the
# FoCus-map config with another training annotation (written by map
# generation; each training frame's mask_path points to its pixdiff-thr0.1 map,
# reals have none, i.e. an all-zero target).
_base_ = ['./efb4-fpn_focus_ffpp-c40.py']
train_dataloader = dict(dataset=dict(ann_file='train_maps-pixdiff-thr0.1.json'))
