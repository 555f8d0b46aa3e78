# Copyright (c) mmfocus contributors.
"""Binned and weighted AUCs: pooled AUCs in bounded memory from counts per
score bin, with the bound of the binning error."""
import numpy as np

from .common import _as_numpy

__all__ = [
    'score_histogram', 'histogram_auc', 'histogram_auc_error', 'weighted_auc'
]


def score_histogram(scores, bins: int = 1024, lo: float = 0.0,
                    hi: float = 1.0) -> np.ndarray:
    """Counts of scores in ``bins`` equal-width bins over ``[lo, hi]``.

    Bin ``b`` holds ``lo + b * width <= s < lo + (b + 1) * width`` (the last
    bin also holds ``hi``); scores below ``lo`` / above ``hi`` are counted in
    the first / last bin (clipping keeps the order, so
    :func:`histogram_auc_error` still bounds the error).

    Args:
        scores (array-like): Scores (any shape).
        bins (int): Number of bins. Defaults to 1024.
        lo (float): Lower end. Defaults to 0.0.
        hi (float): Upper end. Defaults to 1.0.

    Returns:
        np.ndarray: ``(bins, )`` int64 counts.
    """
    s = _as_numpy(scores).reshape(-1).astype(np.float64)
    if np.isnan(s).any():
        raise ValueError('scores contain NaN')
    idx = np.floor((s - lo) * (bins / (hi - lo)))
    idx = np.clip(idx, 0, bins - 1).astype(np.int64)
    return np.bincount(idx, minlength=bins).astype(np.int64)


def histogram_auc(pos_counts, neg_counts) -> float:
    """AUC from positive / negative counts per ordered bin (lowest score
    first), a positive/negative pair in the same bin counting 1/2.

    With one bin per distinct score this is the exact (tie-aware) AUC; with
    coarser bins, see :func:`histogram_auc_error`.

    Args:
        pos_counts (array-like): Positives per bin.
        neg_counts (array-like): Negatives per bin.

    Returns:
        float: AUC in ``[0, 1]``; ``nan`` if either class is absent.
    """
    pos = _as_numpy(pos_counts).astype(np.float64).reshape(-1)
    neg = _as_numpy(neg_counts).astype(np.float64).reshape(-1)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return float('nan')
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + 0.5 * neg)).sum() / (n_pos * n_neg))


def histogram_auc_error(pos_counts, neg_counts) -> float:
    """Largest possible difference between :func:`histogram_auc` and the
    exact AUC of the scores that were binned.

    Pairs in different bins are ordered correctly by the bins; a pair in the
    same bin counts 1/2 where the exact AUC counts 0, 1/2 or 1. Hence
    ``|binned - exact| <= 1/2 * sum_b pos_b * neg_b / (P * N)``. For scores
    spread over ``[0, 1]`` in 1024 bins this is about ``1 / 2048``; it is 0
    when no bin holds both classes.

    Args:
        pos_counts (array-like): Positives per bin.
        neg_counts (array-like): Negatives per bin.

    Returns:
        float: The bound; ``nan`` if either class is absent.
    """
    pos = _as_numpy(pos_counts).astype(np.float64).reshape(-1)
    neg = _as_numpy(neg_counts).astype(np.float64).reshape(-1)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return float('nan')
    return float(0.5 * (pos * neg).sum() / (n_pos * n_neg))


def weighted_auc(scores, pos_weights, neg_weights) -> float:
    """Exact AUC of scores that occur ``pos_weights[i]`` times as positives
    and ``neg_weights[i]`` times as negatives (ties count 1/2).

    Used for a fixed position prior over many faces: its score at a pixel is
    the same for every face, so counting how many faces have the pixel
    inside / outside their mask gives the pooled pixel AUC exactly.

    Args:
        scores (array-like): Scores.
        pos_weights (array-like): Positive count of each score.
        neg_weights (array-like): Negative count of each score.

    Returns:
        float: AUC in ``[0, 1]``; ``nan`` if either class is absent.
    """
    s = _as_numpy(scores).astype(np.float64).reshape(-1)
    pw = _as_numpy(pos_weights).astype(np.float64).reshape(-1)
    nw = _as_numpy(neg_weights).astype(np.float64).reshape(-1)
    if not (s.shape == pw.shape == nw.shape):
        raise ValueError(f'scores and weights differ in length: {s.shape}, '
                         f'{pw.shape}, {nw.shape}')
    if np.isnan(s).any():
        raise ValueError('scores contain NaN')
    uniq, inv = np.unique(s, return_inverse=True)
    return histogram_auc(np.bincount(inv, pw, len(uniq)),
                         np.bincount(inv, nw, len(uniq)))
