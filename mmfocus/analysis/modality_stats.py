# Copyright (c) mmfocus contributors.
"""Fixed statistics of a modality filter's output (for
``ModalityFilter(normalize='fixed')``): per-channel mean and standard
deviation over every pixel of a set of images, accumulated in float64."""
from typing import Iterable, Optional

import torch

from mmfocus.models.data_preprocessors.modality_filters import ModalityFilter

__all__ = ['filter_statistics']


def filter_statistics(batches: Iterable[torch.Tensor],
                      modality: str = 'sobel',
                      max_images: Optional[int] = None,
                      **filter_kwargs) -> dict:
    """Per-channel mean / std of the unnormalised filter output.

    Args:
        batches (Iterable[Tensor]): ``(B, 3, H, W)`` RGB batches in
            [0, 255] (the order the model's filter sees, i.e. after any
            BGR -> RGB flip).
        modality (str): ``'sobel'``, ``'dct'`` or ``'srm'``.
            Defaults to 'sobel'.
        max_images (int, optional): Stop after this many images.
            Defaults to None (all).
        **filter_kwargs: Other :class:`ModalityFilter` arguments
            (``sobel_mode``, ``dct_eps``...), not ``normalize``.

    Returns:
        dict: ``mean`` and ``std`` (lists of 3 floats, population std),
        ``images`` and ``pixels`` (per channel) counted.

    Raises:
        ValueError: no image was given.
    """
    filt = ModalityFilter(modality=modality, normalize=False, **filter_kwargs)
    n = 0
    images = 0
    s1 = torch.zeros(3, dtype=torch.float64)
    s2 = torch.zeros(3, dtype=torch.float64)
    for x in batches:
        if max_images is not None and images >= max_images:
            break
        if max_images is not None:
            x = x[:max_images - images]
        y = filt(x.double()).transpose(0, 1).reshape(3, -1)
        s1 += y.sum(1)
        s2 += (y * y).sum(1)
        n += y.shape[1]
        images += x.shape[0]
    if n == 0:
        raise ValueError('filter_statistics got no images')
    mean = s1 / n
    var = (s2 / n - mean * mean).clamp_min(0)
    return dict(mean=[float(v) for v in mean], std=[float(v) for v in
                                                    var.sqrt()],
                images=images, pixels=n)
