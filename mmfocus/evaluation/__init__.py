# Copyright (c) mmfocus contributors.
"""Detection metrics (ForgeryMetric) and map-quality metrics
(MapQualityMetric); NumPy implementations in :mod:`.functional`."""
from . import functional
from .metrics import ForgeryMetric, MapQualityMetric

__all__ = ['functional', 'ForgeryMetric', 'MapQualityMetric']
