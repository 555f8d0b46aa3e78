# Copyright (c) mmfocus contributors.
"""Comparison maps: a fake frame against its paired real frame.

Both are the paper's baselines (Tables I, II, VI): ``1 - SSIM`` and the
pixel-wise difference, optionally thresholded at 0.1. Inputs are ``HxW`` or
``HxWxC`` arrays of the same shape (uint8 in [0, 255] by default); outputs
are float32 ``HxW`` maps in [0, 1]. No file I/O here.
"""
from typing import Optional

import numpy as np


def _check_pair(fake: np.ndarray, real: np.ndarray) -> None:
    fake, real = np.asarray(fake), np.asarray(real)
    if fake.shape != real.shape:
        raise ValueError(f'fake and real frames differ in shape: '
                         f'{fake.shape} vs {real.shape}')
    if fake.ndim not in (2, 3):
        raise ValueError(f'expected HxW or HxWxC images, got {fake.shape}')


def ssim_map(fake: np.ndarray,
             real: np.ndarray,
             data_range: float = 255.,
             win_size: Optional[int] = None,
             gaussian_weights: bool = False) -> np.ndarray:
    """``1 - SSIM`` map (skimage), averaged over channels, clipped to [0, 1].

    SSIM lies in [-1, 1], so ``1 - SSIM`` lies in [0, 2]; values above 1
    (anti-correlated structure, rare) are clipped so the map is a valid
    BCE target.

    Args:
        fake, real (np.ndarray): ``HxW`` or ``HxWxC`` images, same shape.
        data_range (float): Value range of the inputs. Defaults to 255.
        win_size (int, optional): SSIM window (odd). Defaults to None
            (skimage's 7, or 11 with ``gaussian_weights``).
        gaussian_weights (bool): Gaussian window (sigma 1.5) as in Wang et
            al. Defaults to False (skimage's uniform window).

    Returns:
        np.ndarray: float32 ``HxW`` in [0, 1].
    """
    from skimage.metrics import structural_similarity
    _check_pair(fake, real)
    fake = np.asarray(fake, np.float64)
    real = np.asarray(real, np.float64)
    _, full = structural_similarity(
        fake,
        real,
        data_range=data_range,
        full=True,
        win_size=win_size,
        gaussian_weights=gaussian_weights,
        channel_axis=-1 if fake.ndim == 3 else None)
    if full.ndim == 3:
        full = full.mean(-1)
    return np.clip(1. - full, 0., 1.).astype(np.float32)


def pixel_diff_map(fake: np.ndarray,
                   real: np.ndarray,
                   thr: Optional[float] = None,
                   data_range: float = 255.) -> np.ndarray:
    """Pixel-wise difference: mean absolute difference over channels.

    Args:
        fake, real (np.ndarray): ``HxW`` or ``HxWxC`` images, same shape.
        thr (float, optional): Binarise: ``1`` where the difference is
            above ``thr`` (the paper's 0.1), else ``0``. Defaults to None
            (the soft map).
        data_range (float): Value range of the inputs; the map is divided
            by it. Defaults to 255.

    Returns:
        np.ndarray: float32 ``HxW`` in [0, 1].
    """
    _check_pair(fake, real)
    diff = np.abs(np.asarray(fake, np.float32) - np.asarray(real, np.float32))
    if diff.ndim == 3:
        diff = diff.mean(-1)
    diff = np.clip(diff / data_range, 0., 1.)
    if thr is not None:
        diff = (diff > thr).astype(np.float32)
    return diff.astype(np.float32)
