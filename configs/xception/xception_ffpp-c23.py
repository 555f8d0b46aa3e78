# The FF++ Xception baseline on FF++ HQ (c23): xception_ffpp-c40.py (299 px
# pipelines) with the c23 face crops, as configs/_base_/datasets/ffpp-c23.py
# derives from ffpp-c40.py.
_base_ = ['./xception_ffpp-c40.py']
data_root = 'data/ffpp/c23'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
