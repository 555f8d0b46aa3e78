# MaDD on FF++ HQ (c23): madd-efb4_ffpp-c40.py (380 px pipelines) with the
# c23 face crops, as configs/_base_/datasets/ffpp-c23.py derives from
# ffpp-c40.py. Run:
#   tools/dist_train.sh configs/madd/madd-efb4_ffpp-c23.py 8
_base_ = ['./madd-efb4_ffpp-c40.py']
data_root = 'data/ffpp/c23'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
