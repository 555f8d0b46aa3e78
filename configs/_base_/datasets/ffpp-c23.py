# FaceForensics++ HQ (c23): the LQ (c40) setting with the c23 face crops.
_base_ = ['./ffpp-c40.py']
data_root = 'data/ffpp/c23'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
