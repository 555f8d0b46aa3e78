# Copyright (c) mmfocus contributors.
"""Deprecated location (kept for one release): the multi-task evaluation
model is :class:`mmfocus.models.classifiers.MultiTaskDetector`, its
EfficientNet converter :mod:`mmfocus.models.converters.efficientnet`."""
import warnings

from ..classifiers.multitask import MultiTaskDetector

warnings.warn(
    'mmfocus.models.multitask moved: MultiTaskDetector is in '
    'mmfocus.models.classifiers, the EfficientNet converter in '
    'mmfocus.models.converters; the old path will be removed in the next '
    'release', DeprecationWarning, stacklevel=2)

__all__ = ['MultiTaskDetector']
