# The LTTD video classifier without its map-supervised terms on FF++ c40.
_base_ = ['./lttd_mask_ffpp-c40.py']
model = dict(map_losses=False)
