# The 1,000-iteration diagnostic schedule of vit-demo_demo-sbi_mil_1k.py
# (centred top-k pooling + real-everywhere location loss) with one RGB branch
# (no Sobel branch, no CL): configs/focus/README.md#pooling-and-the-real-
# everywhere-loss.
_base_ = ['./vit-demo_demo-sbi_mil_1k.py']
model = dict(modalities=('rgb', ),
             data_preprocessor=dict(modalities=('rgb', )))
