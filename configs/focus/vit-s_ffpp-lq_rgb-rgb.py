# Table V "+RGB": the second branch sees the rgb view instead of Sobel.
_base_ = ['./vit-s_ffpp-lq.py']
model = dict(modalities=('rgb', 'rgb'),
             data_preprocessor=dict(modalities=('rgb', 'rgb')))
