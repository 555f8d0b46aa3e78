# Copyright (c) mmfocus contributors.
"""Experiment protocols of the paper, run end to end (maps, training,
tests, tables): the map-source protocol (:mod:`.map_protocol`) and the
robustness study (:mod:`.robustness`), the complexity table
(:mod:`.complexity`)."""
from .map_protocol import (CROSS_DATASETS, MapProtocol, check_spec,
                           expand_detectors, load_protocol_spec,
                           run_map_protocol, scale_schedule)
from .complexity import load_complexity_spec, run_complexity
from .robustness import run_robustness
from .tables import map_quality_markdown, results_markdown

__all__ = [
    'MapProtocol', 'load_protocol_spec', 'check_spec', 'run_map_protocol',
    'scale_schedule', 'results_markdown', 'map_quality_markdown',
    'CROSS_DATASETS', 'run_robustness', 'expand_detectors',
    'run_complexity', 'load_complexity_spec'
]
