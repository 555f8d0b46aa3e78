# Table V "RGB only": a single RGB branch (no CL).
_base_ = ['./vit-s_ffpp-lq.py']
model = dict(modalities=('rgb', ),
             data_preprocessor=dict(modalities=('rgb', )))
