# CADDM (Dong et al., CVPR 2023) as a Table III evaluation model: ResNet-34
# (mmpretrain) + the Artifact Detection Module on its last stage (levels
# 7, 5, 3, 1 at 224 px, 2 priors per location, 168 priors). The artefact
# boxes come from the target map (connected components of the map >= 0.5 x
# its maximum; real faces: no box). Loss: CE + 0.1 x (SmoothL1 + CE with
# 2:1 hard negatives), as CADDM's training script.
model = dict(
    type='CADDM',
    backbone=dict(
        type='mmpretrain.ResNet',
        depth=34,
        out_indices=(3, ),
        # ImageNet weights: see configs/_base_/models/pcl_r34.py
    ),
    adm_head=dict(
        type='ArtifactDetectionHead',
        in_channels=512,
        min_sizes=(40 / 224, 80 / 224, 120 / 224, 1.0),
        max_sizes=(80 / 224, 120 / 224, 160 / 224, 1.0),
        box_thr=0.5,
        relative_thr=True,
        min_box_area=0.01,
        face_box=False,
        iou_thr=0.5,
        neg_pos=2,
        loss_weight=0.1),
    cls_in_channels=512,
    num_classes=2,
    target_size=(56, 56),
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True),
)
