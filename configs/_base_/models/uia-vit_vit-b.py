# UIA-ViT (Zhuang et al., ECCV 2022): ViT-B/16 at 224 px (learned position
# embedding, as the ViT weights it starts from). The pre-softmax attention of
# blocks 8-12 (0-based 7..11), mean over heads and blocks, through a sigmoid:
# the class-token row weights the final patch tokens (PCWA, progressive), the
# patch rows are the pair consistency pulled to c_in / c_out / c_cross by
# pseudo patch labels (UPCL) from moving Gaussians (MGE) of the block-6
# patch features. Loss: CE + 0.06 x consistency + the c regulariser.
# pred_map = the class token's PCWA attention (the 'uia-vit' map source).
model = dict(
    type='UIAViT',
    backbone=dict(
        type='FoCusViT',
        arch='deit-b',  # ViT-B/16: dim 768, depth 12, 12 heads
        img_size=224,
        patch_size=16,
        pos_embed='learned',
        drop_path_rate=0.0,
        # From scratch by default. ImageNet weights from a local timm file
        # (vit_base_patch16_224, nothing is downloaded):
        #   python tools/model_converters/timm_vit_to_mmfocus.py \
        #       vit_base_patch16_224.safetensors checkpoints/vit-b_learned.pth \
        #       --pos-embed learned
        # and set pretrained='checkpoints/vit-b_learned.pth'
        pretrained=None),
    num_classes=2,
    feat_index=5,  # the output of block 6 feeds MGE
    attn_indices=(7, 8, 9, 10, 11),  # blocks 8-12: consistency + PCWA
    total_iters=30000,  # = train_cfg.max_iters of the schedule
    progressive=True,
    pcwa_start=0.125,  # mean pooling for the first 1/8 of training
    pcwa_k=12.0,
    pcwa_thr=0.7,
    eval_progress=None,
    consistency_start=0.125,  # UPCL from 1/8 of training on
    loss_weight=0.06,
    c_init=(0.6, 0.6, 0.2),  # (c_in, c_out, c_cross), learned
    c_learnable=True,
    c_reg=(0.05, 0.05, 0.5),
    pseudo_labels='mge',
    fake_region=(3 / 14, 11 / 14),  # rows / cols 3..10 of 14
    mge_momentum=0.01,
    mge_shrinkage=0.1,
    mge_eps=1e-5,
    mge_inv_interval=1,
    map_type='attention',
    dropout=0.0,
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=(127.5, 127.5, 127.5),
        std=(127.5, 127.5, 127.5),
        bgr_to_rgb=True),
)
