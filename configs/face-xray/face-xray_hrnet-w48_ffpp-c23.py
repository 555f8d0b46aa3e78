# Face X-ray (HRNet-w48, 256 px) on FF++ c23: face-xray_hrnet-w48_ffpp-c40.py
# with the c23 face crops (and their true FF++ masks).
_base_ = ['./face-xray_hrnet-w48_ffpp-c40.py']
data_root = 'data/ffpp/c23'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
