# Copyright (c) mmfocus contributors.
from .dump import DumpPredictions
from .forgery_metric import ForgeryMetric
from .map_metric import MapQualityMetric

__all__ = ['DumpPredictions', 'ForgeryMetric', 'MapQualityMetric']
