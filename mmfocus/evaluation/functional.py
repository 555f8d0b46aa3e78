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
"""
from typing import Callable, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'binary_auc', 'bootstrap_interval', 'roc_curve', 'eer', 'average_precision', 'accuracy',
    'video_level', 'paired_map_auc', 'pixel_auc', 'iou_at', 'f1_at',
    'image_pixel_auc', 'best_f1', 'pointing_game', 'score_histogram',
    'histogram_auc', 'histogram_auc_error', 'weighted_auc', 'gaussian_prior',
    'resize_map', 'deletion_insertion', 'deletion_insertion_random'
]


def _as_numpy(x) -> np.ndarray:
    """Convert a tensor / list / array to a NumPy array without copying."""
    if hasattr(x, 'detach'):  # torch.Tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _check_scores_labels(scores, labels) -> Tuple[np.ndarray, np.ndarray]:
    scores = _as_numpy(scores).reshape(-1)
    labels = _as_numpy(labels).reshape(-1)
    if scores.shape != labels.shape:
        raise ValueError(f'scores and labels differ in length: '
                         f'{scores.shape[0]} vs {labels.shape[0]}')
    if scores.dtype.kind not in 'fiub':
        raise TypeError(f'scores must be numeric, got dtype {scores.dtype}')
    if scores.dtype.kind == 'f' and np.isnan(scores).any():
        raise ValueError('scores contain NaN')
    return scores, labels.astype(bool)


def _average_ranks(x: np.ndarray,
                   order: Optional[np.ndarray] = None) -> np.ndarray:
    """1-based ranks of ``x`` in ascending order; tied values share the mean
    of their ranks (like ``scipy.stats.rankdata(method='average')``).
    ``order``: ``np.argsort(x)`` when the caller has it already."""
    if order is None:
        order = np.argsort(x, kind='mergesort')
    xs = x[order]
    # start index of each run of equal values in the sorted array
    is_new = np.empty(xs.shape, dtype=bool)
    is_new[:1] = True
    np.not_equal(xs[1:], xs[:-1], out=is_new[1:])
    starts = np.flatnonzero(is_new)
    ends = np.append(starts[1:], xs.size)  # exclusive
    run_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


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
    out = np.asarray(out, np.float64)
    out = out[np.isfinite(out)]
    if out.size == 0:
        return float('nan'), float('nan')
    a = (1 - level) / 2 * 100
    return (float(np.percentile(out, a)), float(np.percentile(out, 100 - a)))


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


def _check_same_shape(**arrays) -> None:
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f'shape mismatch: {shapes}; resize the maps first '
                         f'(see mmfocus.evaluation.functional.resize_map)')


def paired_map_auc(fake_map, real_map, mask, thr: float = 0.5) -> float:
    """Paired map-AUC of one fake face and its real twin.

    Inside the true manipulation mask (``mask > thr``), the fake's map
    values are positives and the same pixels of the real twin's map are
    negatives. A map that is the same for every face (any position prior)
    therefore scores exactly 0.5; only a map that responds to the
    manipulation itself scores above.

    Args:
        fake_map (array-like): HxW map of the fake face.
        real_map (array-like): HxW map of its real twin.
        mask (array-like): HxW ground-truth mask of the fake.
        thr (float): Mask binarisation threshold. Defaults to 0.5.

    Returns:
        float: AUC in ``[0, 1]``; ``nan`` if the binarised mask is empty.
    """
    fake_map, real_map = _as_numpy(fake_map), _as_numpy(real_map)
    mask = _as_numpy(mask)
    _check_same_shape(fake_map=fake_map, real_map=real_map, mask=mask)
    inside = mask > thr
    n = int(inside.sum())
    if n == 0:
        return float('nan')
    pos, neg = fake_map[inside], real_map[inside]
    values = np.concatenate([pos, neg])
    labels = np.zeros(2 * n, dtype=bool)
    labels[:n] = True
    return binary_auc(values, labels)


def pixel_auc(maps, masks, thr: float = 0.5) -> float:
    """Pixel AUC pooled over all pixels of all given faces.

    Args:
        maps (array-like): ``(N, H, W)`` or ``(H, W)`` maps (or a list of
            equally sized maps).
        masks (array-like): Ground-truth masks of the same shape, binarised
            with ``mask > thr``.
        thr (float): Mask binarisation threshold. Defaults to 0.5.

    Returns:
        float: AUC in ``[0, 1]``; ``nan`` if all pixels are of one class.
    """
    maps = np.stack([_as_numpy(m) for m in maps]) if isinstance(
        maps, (list, tuple)) else _as_numpy(maps)
    masks = np.stack([_as_numpy(m) for m in masks]) if isinstance(
        masks, (list, tuple)) else _as_numpy(masks)
    _check_same_shape(maps=maps, masks=masks)
    return binary_auc(maps.reshape(-1), (masks > thr).reshape(-1))


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


def _binary_pair(map, mask, thr: float,
                 mask_thr: float) -> Tuple[np.ndarray, np.ndarray]:
    """``(map >= thr, mask > mask_thr)`` of two same-shape maps."""
    map, mask = _as_numpy(map), _as_numpy(mask)
    _check_same_shape(map=map, mask=mask)
    return map >= thr, mask > mask_thr


def iou_at(map, mask, thr: float = 0.5, mask_thr: float = 0.5) -> float:
    """IoU between the thresholded map (``map >= thr``) and the binarised
    mask (``mask > mask_thr``).

    Args:
        map (array-like): HxW map.
        mask (array-like): HxW ground-truth mask.
        thr (float): Map threshold. Defaults to 0.5.
        mask_thr (float): Mask binarisation threshold. Defaults to 0.5.

    Returns:
        float: IoU in ``[0, 1]``; ``nan`` if both binary masks are empty.
    """
    pred, gt = _binary_pair(map, mask, thr, mask_thr)
    union = int(np.logical_or(pred, gt).sum())
    if union == 0:
        return float('nan')
    return float(np.logical_and(pred, gt).sum() / union)


def f1_at(map, mask, thr: float = 0.5, mask_thr: float = 0.5) -> float:
    """Pixel F1 (Dice) between the thresholded map (``map >= thr``) and the
    binarised mask (``mask > mask_thr``): ``2 TP / (2 TP + FP + FN)``.

    This is scikit-learn's ``f1_score`` of the two binary masks (an empty
    prediction of a non-empty mask scores 0).

    Args:
        map (array-like): HxW map.
        mask (array-like): HxW ground-truth mask.
        thr (float): Map threshold. Defaults to 0.5.
        mask_thr (float): Mask binarisation threshold. Defaults to 0.5.

    Returns:
        float: F1 in ``[0, 1]``; ``nan`` if both binary masks are empty.
    """
    pred, gt = _binary_pair(map, mask, thr, mask_thr)
    denom = int(pred.sum()) + int(gt.sum())
    if denom == 0:
        return float('nan')
    return float(2 * np.logical_and(pred, gt).sum() / denom)


class _MapRanking:
    """The pixel order of one map, computed once and shared by the per-image
    AUC and best-threshold F1 of any number of masks (the position priors
    score every fake with the same map).

    Args:
        map (array-like): A map of any shape (flattened).
    """

    def __init__(self, map) -> None:
        v = _as_numpy(map).astype(np.float64).reshape(-1)
        if np.isnan(v).any():
            raise ValueError('map contains NaN')
        self.size = v.size
        ascending = np.argsort(v, kind='mergesort')
        self.ranks = _average_ranks(v, ascending)  # ties share their mean
        self.order = ascending[::-1]  # descending
        s = v[self.order]
        # last index (in descending order) of each run of equal values:
        # the candidate thresholds of the best-F1 search
        self.run_ends = np.flatnonzero(np.append(s[1:] != s[:-1], True))

    def auc(self, gt: np.ndarray) -> np.ndarray:
        """Per-row AUC of ``gt`` (``(K, size)`` bool): nan for one class."""
        gtf = gt.astype(np.float64)
        n_pos = gtf.sum(1)
        n_neg = self.size - n_pos
        with np.errstate(invalid='ignore', divide='ignore'):
            out = (gtf @ self.ranks - n_pos * (n_pos + 1) / 2) / (n_pos *
                                                                   n_neg)
        out[(n_pos == 0) | (n_neg == 0)] = np.nan
        return out

    def best_f1(self, gt: np.ndarray) -> np.ndarray:
        """Per-row F1 at the best threshold ``map >= t`` over all distinct
        map values (``(K, size)`` bool in; nan for an empty mask)."""
        n_pos = gt.sum(1).astype(np.float64)
        tp = np.cumsum(gt[:, self.order], axis=1)[:, self.run_ends]
        with np.errstate(invalid='ignore', divide='ignore'):
            f1 = 2 * tp / (n_pos[:, None] + (self.run_ends + 1)[None, :])
        out = f1.max(1) if f1.shape[1] else np.zeros(len(gt))
        out[n_pos == 0] = np.nan
        return out


def image_pixel_auc(map, mask, mask_thr: float = 0.5) -> float:
    """Pixel AUC of one image: its map values inside the binarised mask
    (``mask > mask_thr``) are positives, those outside negatives.

    Args:
        map (array-like): HxW map.
        mask (array-like): HxW ground-truth mask.
        mask_thr (float): Mask binarisation threshold. Defaults to 0.5.

    Returns:
        float: AUC in ``[0, 1]``; ``nan`` if the mask is all one class (empty
        or covering the whole image).
    """
    map, mask = _as_numpy(map), _as_numpy(mask)
    _check_same_shape(map=map, mask=mask)
    return binary_auc(map.reshape(-1), (mask > mask_thr).reshape(-1))


def best_f1(map, mask, mask_thr: float = 0.5) -> float:
    """Optimistic pixel F1: the F1 of ``map >= t`` at the threshold ``t``
    that is best for *this* image (every distinct map value is tried).

    The threshold is chosen with the answer in hand, so this is an upper
    bound of what any fixed threshold reaches; report it only beside
    :func:`f1_at` with a fixed threshold.

    Args:
        map (array-like): HxW map.
        mask (array-like): HxW ground-truth mask.
        mask_thr (float): Mask binarisation threshold. Defaults to 0.5.

    Returns:
        float: F1 in ``[0, 1]``; ``nan`` if the binarised mask is empty.
    """
    map, mask = _as_numpy(map), _as_numpy(mask)
    _check_same_shape(map=map, mask=mask)
    gt = (mask > mask_thr).reshape(1, -1)
    return float(_MapRanking(map).best_f1(gt)[0])


def pointing_game(map, mask, mask_thr: float = 0.5) -> float:
    """Pointing game: does the map's maximum fall inside the true mask?

    When several pixels share the maximum, the score is the fraction of them
    inside the mask (a constant map scores the mask's area fraction, not 1).

    Args:
        map (array-like): HxW map.
        mask (array-like): HxW ground-truth mask.
        mask_thr (float): Mask binarisation threshold. Defaults to 0.5.

    Returns:
        float: 1.0 (hit) or 0.0 (miss) for a unique maximum, a fraction for
        tied maxima; ``nan`` if the binarised mask is empty.
    """
    map, mask = _as_numpy(map), _as_numpy(mask)
    _check_same_shape(map=map, mask=mask)
    gt = mask > mask_thr
    if not gt.any():
        return float('nan')
    at_max = map == map.max()
    return float(np.logical_and(at_max, gt).sum() / at_max.sum())


def gaussian_prior(h: int, w: int, sigma_frac: float = 0.25) -> np.ndarray:
    """Centred 2-D Gaussian position prior with peak 1.

    Args:
        h (int): Height.
        w (int): Width.
        sigma_frac (float): Standard deviation as a fraction of the height
            (rows) and width (columns). Defaults to 0.25.

    Returns:
        np.ndarray: ``(h, w)`` float32 map in ``(0, 1]``.
    """
    if h <= 0 or w <= 0 or sigma_frac <= 0:
        raise ValueError(f'gaussian_prior needs h, w, sigma_frac > 0, got '
                         f'{h}, {w}, {sigma_frac}')
    ys = (np.arange(h) - (h - 1) / 2.0) / (sigma_frac * h)
    xs = (np.arange(w) - (w - 1) / 2.0) / (sigma_frac * w)
    g = np.exp(-0.5 * (ys[:, None]**2 + xs[None, :]**2))
    return (g / g.max()).astype(np.float32)


def resize_map(map, size: Tuple[int, int]) -> np.ndarray:
    """Resize a 2-D map bilinearly (anti-aliased when shrinking, like PIL).

    Args:
        map (array-like): HxW map (a leading singleton dim is squeezed).
        size (tuple[int, int]): Output ``(h, w)``.

    Returns:
        np.ndarray: ``(h, w)`` float32 map.
    """
    import torch
    import torch.nn.functional as F
    arr = _as_numpy(map).astype(np.float32)
    arr = _squeeze_2d(arr)
    size = (int(size[0]), int(size[1]))
    if arr.shape == size:
        return arr
    t = torch.from_numpy(np.ascontiguousarray(arr))[None, None]
    out = F.interpolate(t,
                        size=size,
                        mode='bilinear',
                        align_corners=False,
                        antialias=True)
    return out[0, 0].numpy()


def _squeeze_2d(arr: np.ndarray) -> np.ndarray:
    """Drop leading singleton dims of a map; raise unless 2-D remains."""
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f'expected a 2-D map (HxW or 1xHxW), got shape '
                         f'{arr.shape}')
    return arr


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    return float(((y[1:] + y[:-1]) * 0.5 * np.diff(x)).sum())


def _scores_of(score_fn: Callable, images: np.ndarray) -> np.ndarray:
    out = _as_numpy(score_fn(images)).astype(np.float64).reshape(-1)
    if out.shape[0] != images.shape[0]:
        raise ValueError(f'score_fn returned {out.shape[0]} scores for a '
                         f'batch of {images.shape[0]} images')
    return out


def deletion_insertion(score_fn: Callable,
                       img,
                       saliency,
                       steps: int = 20,
                       blur_sigma: float = 5.0,
                       batch_size: int = 32) -> dict:
    """Deletion and insertion curves of a map (faithfulness).

    The pixels are ranked by ``saliency`` (highest first; ties in raster
    order). For ``k = 0, 1/steps, ..., 1``:

    * **deletion**: the top ``k`` of the pixels are replaced by the same
      pixels of a Gaussian-blurred copy of ``img`` (``cv2.GaussianBlur``,
      ``blur_sigma``) and the fake score is recorded;
    * **insertion**: start from the fully blurred image and restore the top
      ``k`` of the original pixels.

    Each curve is summarised by its area (trapezoid rule, ``k`` in
    ``[0, 1]``). A map that points at what makes the face look fake gives a
    **lower deletion AUC** (the score drops as soon as those pixels go) and
    a **higher insertion AUC** than a random map
    (:func:`deletion_insertion_random`) on the same image.

    Args:
        score_fn (Callable): Maps a batch ``(N, H, W, 3)`` of images (the
            dtype of ``img``) to ``N`` fake scores (array, list or tensor).
            The caller wraps its model; this module knows none.
        img (array-like): ``(H, W, 3)`` image, uint8 or float.
        saliency (array-like): ``(h, w)`` map; resized bilinearly to
            ``(H, W)`` when it differs.
        steps (int): Number of steps from 0 % to 100 % (``steps + 1``
            points per curve). Defaults to 20.
        blur_sigma (float): Sigma (pixels) of the Gaussian blur. Defaults
            to 5.0.
        batch_size (int): Images per ``score_fn`` call. Defaults to 32.

    Returns:
        dict: ``deletion_auc`` and ``insertion_auc`` (floats) and ``curves``:
        ``dict(fractions, deletion, insertion)``, each a ``(steps + 1, )``
        array (the fractions of pixels deleted / inserted and the scores).

    Example:
        >>> res = deletion_insertion(lambda x: model_fake_score(x), face,
        ...                          focus_map, steps=10)
        >>> res['deletion_auc'] < random_baseline['deletion_auc']
    """
    import cv2
    img = _as_numpy(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'img must be (H, W, 3), got shape {img.shape}')
    if img.dtype not in (np.uint8, np.float32, np.float64):
        img = img.astype(np.float32)
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    sal = _squeeze_2d(_as_numpy(saliency).astype(np.float32))
    if sal.shape != (h, w):
        sal = resize_map(sal, (h, w))
    if not np.isfinite(sal).all():
        raise ValueError('saliency contains NaN or inf')
    if int(steps) < 1 or blur_sigma <= 0 or int(batch_size) < 1:
        raise ValueError(f'need steps >= 1, blur_sigma > 0, batch_size >= '
                         f'1; got {steps}, {blur_sigma}, {batch_size}')
    steps = int(steps)
    blurred = cv2.GaussianBlur(img, (0, 0), sigmaX=float(blur_sigma),
                               sigmaY=float(blur_sigma))
    order = np.argsort(-sal.reshape(-1), kind='stable')
    fractions = np.arange(steps + 1, dtype=np.float64) / steps
    counts = np.rint(fractions * h * w).astype(np.int64)

    def curve(start: np.ndarray, source: np.ndarray) -> np.ndarray:
        src = source.reshape(h * w, 3)
        scores = []
        for i in range(0, len(counts), int(batch_size)):
            chunk = counts[i:i + int(batch_size)]
            batch = np.repeat(start[None], len(chunk), axis=0)
            flat = batch.reshape(len(chunk), h * w, 3)
            for j, n in enumerate(chunk):
                idx = order[:n]
                flat[j, idx] = src[idx]
            scores.append(_scores_of(score_fn, batch))
        return np.concatenate(scores)

    deletion = curve(img, blurred)
    insertion = curve(blurred, img)
    return dict(deletion_auc=_trapezoid(deletion, fractions),
                insertion_auc=_trapezoid(insertion, fractions),
                curves=dict(fractions=fractions, deletion=deletion,
                            insertion=insertion))


def deletion_insertion_random(score_fn: Callable,
                              img,
                              steps: int = 20,
                              blur_sigma: float = 5.0,
                              seed: int = 0,
                              repeats: int = 1,
                              size: Optional[Tuple[int, int]] = None,
                              batch_size: int = 32) -> dict:
    """The random-map baseline of :func:`deletion_insertion`: the same
    curves for ``repeats`` uniform random saliency maps drawn from
    ``numpy.random.default_rng(seed)``.

    Args:
        score_fn (Callable): As in :func:`deletion_insertion`.
        img (array-like): ``(H, W, 3)`` image.
        steps (int): Defaults to 20.
        blur_sigma (float): Defaults to 5.0.
        seed (int): Seed of the random maps. Defaults to 0.
        repeats (int): Number of random maps averaged. Defaults to 1.
        size (tuple[int, int], optional): ``(h, w)`` of the random maps
            (upsampled to the image like a model's map, e.g. the token grid);
            None draws one value per pixel. Defaults to None.
        batch_size (int): Defaults to 32.

    Returns:
        dict: ``deletion_auc`` / ``insertion_auc`` (means over the repeats),
        ``deletion_aucs`` / ``insertion_aucs`` (one per repeat) and
        ``curves`` (the mean curves, as in :func:`deletion_insertion`).
    """
    h, w = _as_numpy(img).shape[:2]
    rng = np.random.default_rng(seed)
    runs = [
        deletion_insertion(score_fn, img, rng.random(size or (h, w)),
                           steps=steps, blur_sigma=blur_sigma,
                           batch_size=batch_size)
        for _ in range(max(1, int(repeats)))
    ]
    curves = dict(fractions=runs[0]['curves']['fractions'],
                  deletion=np.mean([r['curves']['deletion'] for r in runs],
                                   axis=0),
                  insertion=np.mean([r['curves']['insertion'] for r in runs],
                                    axis=0))
    dels = [r['deletion_auc'] for r in runs]
    ins = [r['insertion_auc'] for r in runs]
    return dict(deletion_auc=float(np.mean(dels)),
                insertion_auc=float(np.mean(ins)), deletion_aucs=dels,
                insertion_aucs=ins, curves=curves)
