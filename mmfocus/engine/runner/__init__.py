# Copyright (c) mmfocus contributors.
from .multi_test_loop import MultiDatasetTestLoop, prefix_metrics
from .runner import MMFocusRunner

__all__ = ['MMFocusRunner', 'MultiDatasetTestLoop', 'prefix_metrics']
