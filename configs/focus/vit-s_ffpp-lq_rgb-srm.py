# Table V "+SRM": the second branch sees the srm view instead of Sobel.
_base_ = ['./vit-s_ffpp-lq.py']
model = dict(modalities=('rgb', 'srm'),
             data_preprocessor=dict(modalities=('rgb', 'srm')))
