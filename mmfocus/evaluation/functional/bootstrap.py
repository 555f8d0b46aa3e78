# Copyright (c) mmfocus contributors.
"""Percentile bootstrap intervals of a statistic over samples."""
from typing import Callable, Tuple

import numpy as np

from .classification import binary_auc
from .common import _as_numpy

__all__ = ['bootstrap_interval', 'histogram_bootstrap_interval']


def bootstrap_interval(values, stat: Callable = None, labels=None,
                       n: int = 1000, level: float = 0.95,
                       seed: int = 0) -> Tuple[float, float]:
    """Percentile bootstrap interval of a statistic over samples.

    Samples are drawn with replacement ``n`` times; with ``labels`` the
    statistic is ``stat(values[idx], labels[idx])`` (default
    :func:`binary_auc`; resamples with one class only are skipped),
    without it ``stat(values[idx])`` (default the mean).

    Args:
        values (array-like): Per-sample scores (or per-pair values).
        stat (callable, optional): The statistic. Defaults to
            :func:`binary_auc` with ``labels``, else ``np.nanmean``.
        labels (array-like, optional): Per-sample labels.
        n (int): Resamples. Defaults to 1000.
        level (float): Coverage. Defaults to 0.95.
        seed (int): Defaults to 0.

    Returns:
        tuple[float, float]: ``(low, high)``; ``(nan, nan)`` if no resample
        could be scored.
    """
    values = _as_numpy(values)
    if labels is not None:
        labels = _as_numpy(labels).astype(bool)
        if labels.shape[0] != values.shape[0]:
            raise ValueError(f'{values.shape[0]} values but '
                             f'{labels.shape[0]} labels')
    if stat is None:
        stat = binary_auc if labels is not None else np.nanmean
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(int(n)):
        idx = rng.integers(0, len(values), len(values))
        if labels is not None:
            lab = labels[idx]
            if lab.all() or not lab.any():
                continue
            out.append(stat(values[idx], lab))
        else:
            out.append(stat(values[idx]))
    return _percentile_interval(out, level)


def histogram_bootstrap_interval(hist, n: int = 1000, level: float = 0.95,
                                 seed: int = 0) -> Tuple[float, float]:
    """Percentile bootstrap interval of the mean of binned values.

    ``hist[i]`` counts the values ``i / (len(hist) - 1)``; each resample
    draws as many values as were counted (multinomial on the counts), so
    memory does not grow with the number of values and the result does
    not depend on their order.

    Args:
        hist (array-like): Counts per bin.
        n (int): Resamples. Defaults to 1000.
        level (float): Coverage. Defaults to 0.95.
        seed (int): Defaults to 0.

    Returns:
        tuple[float, float]: ``(low, high)``; ``(nan, nan)`` without values.
    """
    hist = np.asarray(hist, np.int64)
    total = int(hist.sum())
    if total == 0:
        return float('nan'), float('nan')
    centres = np.arange(len(hist), dtype=np.float64) / (len(hist) - 1)
    draws = np.random.default_rng(seed).multinomial(total, hist / total,
                                                    size=int(n))
    return _percentile_interval(draws @ centres / total, level)


def _percentile_interval(stats, level: float) -> Tuple[float, float]:
    """``(low, high)`` percentiles of the finite ``stats`` at coverage
    ``level``; ``(nan, nan)`` when there are none."""
    out = np.asarray(stats, np.float64)
    out = out[np.isfinite(out)]
    if out.size == 0:
        return float('nan'), float('nan')
    a = (1 - level) / 2 * 100
    return (float(np.percentile(out, a)), float(np.percentile(out, 100 - a)))
