# Copyright (c) mmfocus contributors.
"""Map sources: the baseline target maps of Tables I, II and VI."""
from .cam import attention_maps, cam_maps, vit_reshape_transform
from .comparison import pixel_diff_map, ssim_map

__all__ = [
    'ssim_map', 'pixel_diff_map', 'cam_maps', 'attention_maps',
    'vit_reshape_transform'
]
