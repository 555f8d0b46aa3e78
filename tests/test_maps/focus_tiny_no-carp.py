# The tiny FoCus of the tool tests in its "-CARP" setting (Table VI): the
# map is the last block's class-token attention, as in
# configs/focus/vit-s_ffpp-lq_no-carp.py.
_base_ = ['../data/focus_tiny.py']
model = dict(map_source='attention')
