# Copyright (c) mmfocus contributors.
"""The paper's map-source protocol (Tables I, II and VI), end to end.

For every map source of a protocol spec (``configs/experiments/
map_protocol_*.py``): write its map targets for the training annotation
(:func:`mmfocus.maps.generate.generate_maps`), train the multi-task
evaluation model on them (an mmengine Runner, as ``tools/train.py``), test
the final checkpoint in-dataset and cross-dataset (as ``tools/test.py``),
and measure the source's maps against the true masks of the test split
(:class:`~mmfocus.evaluation.MapQualityMetric`). Two tables come out, each as
Markdown and JSON: ``results`` (the paper's layout) and ``map_quality``.

Every step keeps its output under ``work_dir`` and is skipped when the
output exists, so rerunning the same command resumes: finished maps are
kept, an interrupted training resumes from its last checkpoint, a finished
one is not retrained, finished tests are not rerun.

Example:
    >>> from mmfocus.experiments import MapProtocol, load_protocol_spec
    >>> spec = load_protocol_spec('configs/experiments/map_protocol_demo.py')
    >>> out = MapProtocol(spec, sources=['none', 'ssim']).run()
    >>> out['results_md']
    'work_dirs/map_protocol_demo/results.md'

Layout: :mod:`.spec` (reading and checking a spec, ``scale_schedule``),
:mod:`.runner` (:class:`MapProtocol`: maps, training, tests, ``run``),
:mod:`.quality` (its map-quality and faithfulness stages) and
:mod:`.collect` (its tables). The names are re-exported here, so imports
from ``mmfocus.experiments.map_protocol`` work as when it was one module.
"""
from .collect import ProtocolTables
from .quality import MapQualityStages
from .runner import MapProtocol, run_map_protocol
from .spec import (CROSS_DATASETS, DEFAULT_DROP_HOOKS, check_spec,
                   expand_detectors, load_protocol_spec, scale_schedule)

__all__ = ['MapProtocol', 'load_protocol_spec', 'check_spec',
           'scale_schedule', 'run_map_protocol', 'CROSS_DATASETS',
           'DEFAULT_DROP_HOOKS', 'MapQualityStages', 'ProtocolTables',
           'expand_detectors']
