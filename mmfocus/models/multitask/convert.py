# Copyright (c) mmfocus contributors.
"""Deprecated location: use :mod:`mmfocus.models.converters.efficientnet`."""
from ..converters.efficientnet import (backbone_kwargs_for, check_shapes,
                                       convert_efficientnet, detect_source)

__all__ = [
    'backbone_kwargs_for', 'check_shapes', 'convert_efficientnet',
    'detect_source'
]
