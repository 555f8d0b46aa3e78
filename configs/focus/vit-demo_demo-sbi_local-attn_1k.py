# FoCus-demo, 1,000-iteration diagnostic schedule (vit-demo_demo-sbi_1k.py),
# with a fixed 2-D distance bias on the patch-to-patch attention (ALiBi on
# the token grid; FoCusViT(attn_distance_slopes=...)): head 1 adds -1.0 x
# distance, head 2 -0.5 x distance (in tokens) to its logits, the class
# token stays global. A patch token then mostly sees its own part of the
# face, so its CAR-map value can point at where the blend is; the image-level
# route runs through the class token. The lever against maps whose fake
# evidence sits outside the blended region (configs/focus/README.md#where-
# the-evidence-sits).
_base_ = ['./vit-demo_demo-sbi_1k.py']
# attn_prefix_bias=-1e4 also closes the patches' view of the class token
# (strictly local patch tokens); README's 'Local attention' has the runs.
model = dict(backbone=dict(attn_distance_slopes=(1.0, 0.5),
                           attn_prefix_bias=0.))
