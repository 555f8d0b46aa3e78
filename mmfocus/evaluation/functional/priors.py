# Copyright (c) mmfocus contributors.
"""Position priors: maps that never look at the face."""
import numpy as np

__all__ = ['gaussian_prior']


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
