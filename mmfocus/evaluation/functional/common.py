# Copyright (c) mmfocus contributors.
"""Input checks shared by the metrics: array conversion, score/label
validation, tie-aware ranks and shape checks."""
from typing import Optional, Tuple

import numpy as np


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


def _check_same_shape(**arrays) -> None:
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f'shape mismatch: {shapes}; resize the maps first '
                         f'(see mmfocus.evaluation.functional.resize_map)')
