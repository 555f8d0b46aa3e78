# The complexity table of the CPU-sized demo models (the configs the demo
# trains), measured side by side in one run in seconds:
#   python tools/analysis/complexity.py configs/experiments/complexity_demo.py
# The full-size table (the paper's Table VIII) is complexity_table8.py.
work_dir = 'work_dirs/complexity_demo'
baseline = 'FoCus-demo'
batch_size = 8
models = [
    dict(name='FoCus-demo', config='configs/focus/vit-demo_demo-sbi.py'),
    dict(name='MaDD (EfficientNet-B0)',
         config='configs/madd/madd-efb0_demo-sbi.py'),
    dict(name='GFFD (tiny)', config='configs/gffd/gffd-tiny_demo-sbi.py'),
    dict(name='UIA-ViT (mini)',
         config='configs/uia-vit/uia-vit_mini_demo-sbi.py'),
    dict(name='Xception (tiny)',
         config='configs/xception/xception-tiny_demo-sbi.py'),
    dict(name='Face X-ray (tiny HRNet)',
         config='configs/face-xray/face-xray_hrnet-tiny_demo-sbi.py'),
    dict(name='EfficientNet-B0 + FPN',
         config='configs/multitask/efb4-fpn_demo-sbi.py'),
    dict(name='ViT (mini)', config='configs/vit/vit-demo_demo-sbi.py'),
]
