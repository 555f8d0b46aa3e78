# Table VI "-CARP": the map is the last block's class-token self-attention
# (mean over heads) instead of the CAR map; CARP still gives the loc loss.
_base_ = ['./vit-s_ffpp-lq.py']
model = dict(map_source='attention')
