# Copyright (c) mmfocus contributors.
"""Detection metrics of scores against binary labels: AUC, ROC curve, EER,
average precision, accuracy, and the frame-to-video aggregation."""
from typing import Sequence, Tuple

import numpy as np

from .common import _as_numpy, _average_ranks, _check_scores_labels

__all__ = [
    'binary_auc', 'roc_curve', 'eer', 'average_precision', 'accuracy',
    'video_level'
]


def _float16_keys(x: np.ndarray) -> np.ndarray:
    """Map float16 values to integers in ``[0, 65535]`` with the same order
    (equal values, including -0 and +0, get equal keys)."""
    x = np.ascontiguousarray(x, dtype=np.float16)
    bits = x.view(np.uint16)
    if not (bits >= 0x8000).any():  # no sign bit: bit patterns are ordered
        return bits
    bits = (x + np.float16(0)).view(np.uint16).astype(np.int64)  # -0 -> +0
    return np.where(bits >= 0x8000, 0xFFFF - bits, bits + 0x8000)


def _auc_float16(scores: np.ndarray, labels: np.ndarray) -> float:
    """Exact tie-aware AUC in O(n) for float16 scores (histogram counting),
    used for pooled pixel AUCs over millions of pixels."""
    keys = _float16_keys(scores)
    pos = np.bincount(keys[labels], minlength=1 << 16).astype(np.float64)
    neg = np.bincount(keys[~labels], minlength=1 << 16).astype(np.float64)
    neg_below = np.cumsum(neg) - neg
    n_pos, n_neg = pos.sum(), neg.sum()
    return float((pos * (neg_below + 0.5 * neg)).sum() / (n_pos * n_neg))


def binary_auc(scores, labels) -> float:
    """Area under the ROC curve (Mann-Whitney U statistic).

    Tied scores count 1/2 per positive/negative pair, so the result equals
    ``sklearn.metrics.roc_auc_score``. More than 65536 float16 scores
    (pooled pixels) take an exact O(n) histogram path instead of sorting.

    Args:
        scores (array-like): Scores, higher = more likely positive (fake).
        labels (array-like): Binary labels, 1/True = positive.

    Returns:
        float: AUC in ``[0, 1]``; ``nan`` if only one class is present.
    """
    scores, labels = _check_scores_labels(scores, labels)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float('nan')
    if scores.dtype == np.float16 and scores.size > (1 << 16):
        return _auc_float16(scores, labels)
    ranks = _average_ranks(scores)
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_curve(scores, labels) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points at every distinct threshold, starting at ``(0, 0)``.

    A sample is called positive when ``score >= threshold``.

    Args:
        scores (array-like): Scores, higher = more likely positive.
        labels (array-like): Binary labels, 1/True = positive.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``(fpr, tpr, thresholds)``,
        with ``thresholds[0] = inf``. Rates are ``nan`` for a class that is
        absent.
    """
    scores, labels = _check_scores_labels(scores, labels)
    order = np.argsort(-scores.astype(np.float64), kind='mergesort')
    s, y = scores[order], labels[order]
    # last index of each run of equal scores (in descending order)
    last = np.flatnonzero(np.append(s[1:] != s[:-1], True))
    tps = np.cumsum(y)[last].astype(np.float64)
    fps = (last + 1) - tps
    n_pos, n_neg = float(labels.sum()), float(labels.size - labels.sum())
    with np.errstate(invalid='ignore', divide='ignore'):
        tpr = np.concatenate([[0.0], tps / n_pos])
        fpr = np.concatenate([[0.0], fps / n_neg])
    thresholds = np.concatenate([[np.inf], s[last].astype(np.float64)])
    return fpr, tpr, thresholds


def eer(scores, labels) -> float:
    """Equal error rate: the rate at which the ROC curve crosses
    ``FPR = FNR`` (= 1 - TPR).

    The crossing is linearly interpolated on the piecewise-linear ROC curve,
    which gives the same value as the common
    ``brentq(lambda x: 1 - x - interp1d(fpr, tpr)(x), 0, 1)`` recipe.

    Args:
        scores (array-like): Scores, higher = more likely positive.
        labels (array-like): Binary labels, 1/True = positive.

    Returns:
        float: EER in ``[0, 1]``; ``nan`` if only one class is present.
    """
    fpr, tpr, _ = roc_curve(scores, labels)
    if np.isnan(fpr).any() or np.isnan(tpr).any():
        return float('nan')
    # g = FPR - FNR rises monotonically from -1 at (0, 0) to +1 at (1, 1)
    g = fpr + tpr - 1.0
    i = int(np.argmax(g >= 0))  # first ROC point at or past the crossing
    if g[i] == 0 or i == 0:
        return float(fpr[i])
    g0, g1 = g[i - 1], g[i]
    t = -g0 / (g1 - g0)
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def average_precision(scores, labels) -> float:
    """Average precision: ``sum_n (R_n - R_{n-1}) * P_n`` over the distinct
    thresholds (no interpolation), as ``sklearn.metrics.
    average_precision_score``.

    Args:
        scores (array-like): Scores, higher = more likely positive.
        labels (array-like): Binary labels, 1/True = positive.

    Returns:
        float: AP in ``[0, 1]``; ``nan`` if there is no positive sample.
    """
    scores, labels = _check_scores_labels(scores, labels)
    fpr, tpr, _ = roc_curve(scores, labels)
    n_pos = labels.sum()
    if n_pos == 0:
        return float('nan')
    n_neg = labels.size - n_pos
    tps = tpr[1:] * n_pos
    fps = fpr[1:] * n_neg if n_neg > 0 else np.zeros_like(tps)
    precision = tps / (tps + fps)
    recall_step = np.diff(tpr)
    return float((recall_step * precision).sum())


def accuracy(scores, labels, thr: float = 0.5) -> float:
    """Fraction of samples classified correctly, calling a sample fake when
    ``score > thr`` (for the fake probability of a 2-way softmax and
    ``thr=0.5`` this is the argmax prediction).

    Args:
        scores (array-like): Fake scores.
        labels (array-like): Binary labels, 1/True = fake.
        thr (float): Decision threshold. Defaults to 0.5.

    Returns:
        float: Accuracy in ``[0, 1]``; ``nan`` for empty input.
    """
    scores, labels = _check_scores_labels(scores, labels)
    if scores.size == 0:
        return float('nan')
    return float(np.mean((scores > thr) == labels))


def video_level(scores, labels,
                video_ids: Sequence) -> Tuple[np.ndarray, np.ndarray, list]:
    """Aggregate frame scores to videos by their mean.

    Args:
        scores (array-like): Frame scores.
        labels (array-like): Frame labels; all frames of a video must share
            one label.
        video_ids (Sequence): Video id of each frame (any hashable).

    Returns:
        tuple[np.ndarray, np.ndarray, list]: ``(video_scores, video_labels,
        ids)``, one entry per video, ids in order of first appearance.

    Raises:
        ValueError: if lengths differ or a video mixes labels.
    """
    scores = _as_numpy(scores).reshape(-1).astype(np.float64)
    labels = _as_numpy(labels).reshape(-1)
    video_ids = list(video_ids)
    if not (len(scores) == len(labels) == len(video_ids)):
        raise ValueError(f'scores, labels and video_ids differ in length: '
                         f'{len(scores)}, {len(labels)}, {len(video_ids)}')
    index = {}
    inverse = np.empty(len(video_ids), dtype=np.int64)
    for i, vid in enumerate(video_ids):
        inverse[i] = index.setdefault(vid, len(index))
    n = len(index)
    sums = np.bincount(inverse, weights=scores, minlength=n)
    counts = np.bincount(inverse, minlength=n)
    video_labels = np.full(n, -1, dtype=np.int64)
    for i, lab in zip(inverse, labels.astype(np.int64)):
        if video_labels[i] == -1:
            video_labels[i] = lab
        elif video_labels[i] != lab:
            raise ValueError(
                f'video {video_ids[i]!r} has frames with different labels '
                f'({video_labels[i]} and {lab})')
    return sums / counts, video_labels, list(index)
