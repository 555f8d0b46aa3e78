# Copyright (c) mmfocus contributors.
"""Figures of a test run (ROC, score histograms, map gallery) and the
self-contained HTML report built from a work dir.

* :mod:`.figures`: the matplotlib figures (object API, no ``pyplot``),
  shared by :class:`mmfocus.engine.hooks.ForgeryVisualizationHook` (during
  ``tools/test.py``) and the report.
* :mod:`.results`: what is read from a work dir (the predictions dump, the
  test metrics of mmengine's JSON log, the map files of each sample).
* :mod:`.page`: the HTML builder, filling ``template.html`` (package data:
  layout, CSS, JS) for ``tools/report.py``.
* the experiment reports, of the work dirs of
  ``tools/experiments/map_protocol.py`` and ``tools/analysis/robustness.py``
  (read from the files they write): :mod:`.kinds` (which kind a work dir
  is), :mod:`.protocol_page`, :mod:`.robustness_page`, :mod:`.sheets` (the
  protocol's comparison sheets) and :mod:`.html_parts` (tables, filters,
  inline figures; ``experiment.html``); import them from their modules
  (``mmfocus.visualization.report.protocol_page.build_protocol_html``...).

Every name of the test report is re-exported here, so ``from
mmfocus.visualization.report import ...`` works as it did when this was one
module.
"""
# the private helpers too (``_new_figure``, ``_fmt``...): the old module had
# them and callers may use them
from .figures import (_new_figure, figure_to_png,  # noqa: F401
                      figure_to_rgb, gallery_figure, group_names,
                      has_video_level, histogram_figure, roc_curves,
                      roc_figure)
from .page import (_fmt, _select, _thumb, build_report_html,  # noqa: F401
                   data_uri, write_report)
from .results import (_NON_METRIC, MapIndex, _flat,  # noqa: F401
                      find_predictions, find_test_metrics,
                      is_predictions_dump, load_metrics, load_predictions,
                      metrics_from_predictions)

__all__ = [
    'figure_to_rgb', 'figure_to_png', 'has_video_level', 'roc_curves',
    'roc_figure', 'group_names', 'histogram_figure', 'gallery_figure',
    'data_uri', 'is_predictions_dump', 'find_predictions',
    'load_predictions', 'find_test_metrics', 'load_metrics',
    'metrics_from_predictions', 'MapIndex', 'build_report_html',
    'write_report'
]
