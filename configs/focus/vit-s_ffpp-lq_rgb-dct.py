# Table V "+DCT": the second branch sees the dct view instead of Sobel.
_base_ = ['./vit-s_ffpp-lq.py']
model = dict(modalities=('rgb', 'dct'),
             data_preprocessor=dict(modalities=('rgb', 'dct')))
