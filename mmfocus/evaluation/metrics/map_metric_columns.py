# Copyright (c) mmfocus contributors.
"""How :class:`~mmfocus.evaluation.metrics.map_metric.MapQualityMetric`'s
figures are laid out in tables: one home for the protocol's Markdown
tables (:mod:`mmfocus.experiments.tables`) and its HTML report
(:mod:`mmfocus.visualization.report.protocol_page`), and how their numbers
are written (:func:`fmt`, also used by the other experiment tables)."""
import math
from typing import Optional

__all__ = ['MAP_QUALITY_COLUMNS', 'REGION_CELL', 'PRIOR_ROWS', 'fmt']


def fmt(value: Optional[float], digits: int) -> str:
    """A table cell: ``value`` with ``digits`` decimals, ``nan`` for a
    missing or undefined number."""
    if value is None or (isinstance(value, float) and not math.isfinite(
            value)):
        return 'nan'
    return f'{value:.{digits}f}'


#: map-quality columns: (metric key of MapQualityMetric, header, digits)
MAP_QUALITY_COLUMNS = (
    ('paired_auc', 'paired map-AUC', 3),
    ('paired_auc_ci', '95 % interval (pairs)', 3),
    ('pixel_auc_per_image', 'pixel AUC / image', 3),
    ('f1@{thr}', 'F1@{thr}', 3),
    ('iou@{thr}', 'IoU@{thr}', 3),
    ('pixel_auc', 'pixel AUC pooled', 3),
    ('pointing_game', 'pointing game', 3),
    ('num_fakes', 'fakes', 0),
    ('num_pairs', 'pairs', 0),
)
#: per region type (method) cells: '<paired AUC> / <pixel AUC/image>'
REGION_CELL = ('paired_auc', 'pixel_auc_per_image')
#: the position priors' rows: (metric prefix, label)
PRIOR_ROWS = (('prior_mean_mask', 'position prior: mean test mask'),
              ('prior_gaussian', 'position prior: centred Gaussian'),
              ('prior_region', 'position prior: mean train mask of the '
               'region type'))
