# FaceForensics++ c23 as clips for video models (LTTD): the c40 clip setting
# (ffpp-c40_clips.py) with the c23 clips, converted with
#   python tools/dataset_converters/ffpp.py <FF++ root> data/ffpp_clips \
#       -c c23 --clips 4 --clip-len 8
_base_ = ['./ffpp-c40_clips.py']
data_root = 'data/ffpp_clips/c23'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
