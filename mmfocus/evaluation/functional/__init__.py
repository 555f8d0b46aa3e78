# Copyright (c) mmfocus contributors.
"""NumPy implementations of detection and map-quality metrics.

All functions take array-likes (NumPy arrays, lists or CPU torch tensors),
return plain Python floats (or NumPy arrays for :func:`video_level` and
:func:`gaussian_prior`) and report fractions in ``[0, 1]``: the callers
(:class:`~mmfocus.evaluation.ForgeryMetric`) decide about percentages.

Conventions:

* ``labels``: 1 = fake (positive), 0 = real (negative).
* A metric that is undefined for its input (AUC with one class only, IoU
  of an empty mask...) returns ``nan`` rather than raising, so a caller can
  skip it with ``np.nanmean``.
* Ties are handled exactly like scikit-learn: AUC counts a tied
  positive/negative pair as 1/2 (average ranks), AP groups tied scores into
  one threshold.
* Map thresholds: a pixel is predicted manipulated when ``map >= thr``; a
  mask pixel is manipulated when ``mask > mask_thr``.

Besides the exact AUCs there is a binned one (:func:`score_histogram`,
:func:`histogram_auc`) for pooled pixel AUCs in bounded memory, with its
error bound (:func:`histogram_auc_error`), and the faithfulness curves
:func:`deletion_insertion` (which call a score function, never a model
class).

The implementations live in one submodule per kind of metric:
:mod:`.classification` (AUC, ROC, EER, AP, accuracy, video level),
:mod:`.bootstrap`, :mod:`.histogram` (binned and weighted AUCs),
:mod:`.pixel` (map quality against masks), :mod:`.priors`, :mod:`.resize`
and :mod:`.faithfulness`; every name is importable from here.
"""
from .bootstrap import bootstrap_interval, histogram_bootstrap_interval
from .classification import (accuracy, average_precision, binary_auc, eer,
                             roc_curve, video_level)
from .faithfulness import deletion_insertion, deletion_insertion_random
from .histogram import (histogram_auc, histogram_auc_error, score_histogram,
                        weighted_auc)
# _MapRanking and _squeeze_2d are private, but the map metric uses them as
# ``Fn._MapRanking`` / ``Fn._squeeze_2d``
from .pixel import (_MapRanking, best_f1, f1_at, image_pixel_auc, iou_at,
                    paired_map_auc, pixel_auc, pointing_game)
from .priors import gaussian_prior
from .resize import _squeeze_2d, resize_map

__all__ = [
    'binary_auc', 'bootstrap_interval', 'histogram_bootstrap_interval',
    'roc_curve', 'eer',
    'average_precision', 'accuracy', 'video_level', 'paired_map_auc',
    'pixel_auc', 'iou_at', 'f1_at', 'image_pixel_auc', 'best_f1',
    'pointing_game', 'score_histogram', 'histogram_auc',
    'histogram_auc_error', 'weighted_auc', 'gaussian_prior', 'resize_map',
    'deletion_insertion', 'deletion_insertion_random'
]
