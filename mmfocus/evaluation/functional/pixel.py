# Copyright (c) mmfocus contributors.
"""Map quality against a ground-truth mask: paired and pooled pixel AUCs,
IoU / F1 at a threshold, per-image AUC, best-threshold F1 and the pointing
game."""
from typing import Tuple

import numpy as np

from .classification import binary_auc
from .common import _as_numpy, _average_ranks, _check_same_shape

__all__ = [
    'paired_map_auc', 'pixel_auc', 'iou_at', 'f1_at', 'image_pixel_auc',
    'best_f1', 'pointing_game'
]


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
