# The no-map baseline of lttd-tiny_demo-clips.py: the same video classifier
# without the integrity and cross-patch inconsistency terms.
_base_ = ['./lttd-tiny_demo-clips.py']
model = dict(map_losses=False)
