# Table VI "-CL": no token substitution; fused map = max(A_rgb, A_sobel),
# prediction = mean of the two branch softmaxes, loss = loc x2.
_base_ = ['./vit-s_ffpp-lq.py']
model = dict(cl_neck=None)
