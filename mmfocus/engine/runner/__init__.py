# Copyright (c) mmfocus contributors.
from .multi_test_loop import MultiDatasetTestLoop, prefix_metrics

__all__ = ['MultiDatasetTestLoop', 'prefix_metrics']
