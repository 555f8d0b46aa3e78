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
"""
from typing import Sequence, Tuple

import numpy as np

__all__ = [
    'binary_auc', 'roc_curve', 'eer', 'average_precision', 'accuracy',
    'video_level', 'paired_map_auc', 'pixel_auc', 'iou_at', 'pointing_game',
    'gaussian_prior', 'resize_map'
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


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` in ascending order; tied values share the mean
    of their ranks (like ``scipy.stats.rankdata(method='average')``)."""
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
    map, mask = _as_numpy(map), _as_numpy(mask)
    _check_same_shape(map=map, mask=mask)
    pred, gt = map >= thr, mask > mask_thr
    union = int(np.logical_or(pred, gt).sum())
    if union == 0:
        return float('nan')
    return float(np.logical_and(pred, gt).sum() / union)


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
