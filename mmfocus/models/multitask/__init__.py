# Copyright (c) mmfocus contributors.
"""The multi-task evaluation model of Fig. 4 (map sources as targets)."""
from .multitask_detector import MultiTaskDetector

__all__ = ['MultiTaskDetector']
