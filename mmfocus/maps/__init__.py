# Copyright (c) mmfocus contributors.
"""Map sources: the baseline target maps of Tables I, II and VI.

The registry ``MAP_SOURCES`` holds one class per source; the comparison
sources are here (:mod:`.sources`), the model-driven ones beside the
inference API (:mod:`mmfocus.apis.map_sources`).
"""
from .cam import cam_batch, vit_backbone, vit_reshape_transform
from .comparison import pixel_diff_map, ssim_map
from .sources import (BaseMapSource, build_map_source, map_source_class,
                      map_source_names)

__all__ = [
    'ssim_map', 'pixel_diff_map', 'cam_batch', 'vit_backbone',
    'vit_reshape_transform', 'BaseMapSource', 'build_map_source',
    'map_source_class', 'map_source_names'
]
