# Copyright (c) mmfocus contributors.
"""Deprecated location: use :mod:`mmfocus.models.converters` (kept for one
release)."""
import warnings

from ..converters.vit import convert_timm_vit

warnings.warn(
    'mmfocus.models.utils.convert moved to mmfocus.models.converters '
    '(convert_timm_vit); the old path will be removed in the next release',
    DeprecationWarning, stacklevel=2)

__all__ = ['convert_timm_vit']
