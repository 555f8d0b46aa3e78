# Copyright (c) mmfocus contributors.
"""Converters from public checkpoints to mmfocus / mmpretrain state dicts,
side by side: timm / DeiT ViT -> :class:`FoCusViT` (:mod:`.vit`) and
torchvision / timm EfficientNet -> mmpretrain ``EfficientNet``
(:mod:`.efficientnet`), torchvision ResNet -> mmpretrain ``ResNet``
(:mod:`.resnet`), timm ``legacy_xception`` -> :class:`Xception`
(:mod:`.xception`). The CLI wrappers are in ``tools/model_converters/``.
"""
from .efficientnet import (backbone_kwargs_for, check_shapes,
                           convert_efficientnet, detect_source)
from .resnet import convert_torchvision_resnet
from .vit import convert_timm_vit
from .xception import convert_timm_xception

__all__ = [
    'convert_timm_vit', 'convert_efficientnet', 'detect_source',
    'backbone_kwargs_for', 'check_shapes', 'convert_torchvision_resnet'
]
__all__ += ['convert_timm_xception']
