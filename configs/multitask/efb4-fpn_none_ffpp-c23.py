# No-map baseline on FF++ c23 (see efb4-fpn_none_ffpp-c40.py).
_base_ = ['./efb4-fpn_none_ffpp-c40.py']
data_root = 'data/ffpp/c23'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
