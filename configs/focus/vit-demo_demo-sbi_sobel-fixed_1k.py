# FoCus-demo whose Sobel view is normalised with FIXED statistics of the
# demo training data instead of per image: a globally blurred or sharpened
# face keeps its lower / higher gradient energy. The statistics were measured
# by `python tools/analysis/modality_stats.py configs/focus/vit-demo_demo-sbi.py
# --num-images 512` (training pipeline, online blends included, seed 0).
# Compared with vit-demo_demo-sbi_1k.py at the same 1,000-iteration budget:
# configs/focus/README.md#the-sobel-branch.
_base_ = ['./vit-demo_demo-sbi_1k.py']
model = dict(data_preprocessor=dict(filter_cfg=dict(sobel=dict(
    normalize='fixed', mean=(90.012, 85.324, 84.001),
    std=(104.2, 105.236, 105.893)))))
