# LTTD (Guan et al., NeurIPS 2022) as a Table III evaluation model: clips of
# 8 frames at 224 px, 16 px patches (196 patch sequences); Local Sequence
# Transformer (3-D low-level filters + 4 temporal blocks, D = 384), Cross-
# Patch Aggregator (4 blocks). Patch integrity labels from the map source
# (clip-averaged map, area-pooled per patch, >= 0.25); loss CE + BCE
# (integrity) + BCE (cross-patch inconsistency).
model = dict(
    type='LTTD',
    backbone=dict(
        type='LocalSequenceTransformer',
        clip_len=8,
        patch_size=16,
        embed_dims=384,
        depth=4,
        num_heads=6,
        low_level_channels=16,
        drop_path_rate=0.1),
    num_patches=196,
    aggregator_depth=4,
    num_heads=6,
    embed_dims=384,
    patch_thr=0.25,
    integrity_weight=1.0,
    inconsistency_weight=1.0,
    inconsistency_scale=10.0,
    target_size=(56, 56),
    data_preprocessor=dict(type='ClipDataPreprocessor'),
)
