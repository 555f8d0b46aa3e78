# Copyright (c) mmfocus contributors.
"""Bringing a map to 2-D and to another size."""
from typing import Tuple

import numpy as np

from .common import _as_numpy

__all__ = ['resize_map']


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
