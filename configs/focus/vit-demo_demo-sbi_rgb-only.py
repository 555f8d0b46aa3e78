# Table V "RGB only" on the demo data: a single RGB branch (no CL).
_base_ = ['./vit-demo_demo-sbi.py']
model = dict(modalities=('rgb', ),
             data_preprocessor=dict(modalities=('rgb', )))
