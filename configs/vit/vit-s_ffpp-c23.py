# The plain ViT-S/16 detector on FF++ HQ (c23); otherwise vit-s_ffpp-c40.py.
_base_ = ['./vit-s_ffpp-c40.py']
data_root = 'data/ffpp/c23'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
