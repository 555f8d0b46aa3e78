# PCL (Zhao et al., ICCV 2021) as a Table III evaluation model: ResNet-34
# (mmpretrain) whose third stage (256 ch, 14x14 at 224 px) feeds the
# patch-consistency branch and whose last stage is pooled into the real/fake
# classifier. Loss: CE + 10 x BCE(consistency volume, pairwise consistency
# of the target map's patches); real faces' maps are all zeros, i.e. fully
# consistent. No I2G augmentation (as FoCus's Table III).
model = dict(
    type='PCL',
    backbone=dict(
        type='mmpretrain.ResNet',
        depth=34,
        out_indices=(2, 3),
        # From scratch by default. ImageNet weights from a local torchvision
        # file: python tools/model_converters/tv_resnet_to_mmpretrain.py \
        #     resnet34-b627a593.pth checkpoints/resnet34_tv.pth
        # and add
        # init_cfg=dict(type='Pretrained', prefix='backbone',
        #               checkpoint='checkpoints/resnet34_tv.pth')
    ),
    consistency_head=dict(
        type='PatchConsistencyHead', in_channels=256, loss_weight=10.0),
    pcl_in_index=0,
    cls_in_index=-1,
    cls_in_channels=512,
    num_classes=2,
    target_size=(56, 56),
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True),
)
