# Table VI "-CL" on the demo data: no token substitution; fused map =
# max(A_rgb, A_sobel), prediction = mean of the two branch softmaxes.
_base_ = ['./vit-demo_demo-sbi.py']
model = dict(cl_neck=None)
