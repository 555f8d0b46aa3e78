# The LTTD video classifier without its map-supervised terms on FF++ c23.
_base_ = ['./lttd_mask_ffpp-c23.py']
model = dict(map_losses=False)
