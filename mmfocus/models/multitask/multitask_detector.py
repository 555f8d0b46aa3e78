# Copyright (c) mmfocus contributors.
"""Deprecated location: use :mod:`mmfocus.models.classifiers.multitask`."""
from ..classifiers.multitask import MultiTaskDetector

__all__ = ['MultiTaskDetector']
