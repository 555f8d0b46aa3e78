# Copyright (c) mmfocus contributors.
"""SRM noise residuals (the third FoCus modality of Table V) as a batched
tensor operation; tested against ``scipy.ndimage.correlate(...,
mode='mirror')`` in ``tests/test_models/test_modality.py``. Re-exported by
:mod:`.modality_filters` with the Sobel and DCT views."""
from functools import lru_cache
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from ._batch import _check_batch

__all__ = ['srm', 'srm_kernels', 'SRM_KERNELS_INT', 'SRM_NORMALIZERS']

# The three SRM residual kernels used by Zhou et al., "Learning Rich Features
# for Image Manipulation Detection", CVPR 2018 (RGB-N, noise stream), taken
# from Fridrich & Kodovsky, "Rich Models for Steganalysis of Digital Images",
# IEEE TIFS 2012: the 3x3 "KB" square kernel (normalised by 1/4), the 5x5
# "KV" square kernel (1/12) and the 2nd-order horizontal kernel (1/2), all
# written as 5x5 integer matrices.
# yapf: disable
SRM_KERNELS_INT: Tuple[Tuple[Tuple[int, ...], ...], ...] = (
    ((0, 0, 0, 0, 0),
     (0, -1, 2, -1, 0),
     (0, 2, -4, 2, 0),
     (0, -1, 2, -1, 0),
     (0, 0, 0, 0, 0)),
    ((-1, 2, -2, 2, -1),
     (2, -6, 8, -6, 2),
     (-2, 8, -12, 8, -2),
     (2, -6, 8, -6, 2),
     (-1, 2, -2, 2, -1)),
    ((0, 0, 0, 0, 0),
     (0, 0, 0, 0, 0),
     (0, 1, -2, 1, 0),
     (0, 0, 0, 0, 0),
     (0, 0, 0, 0, 0)),
)
# yapf: enable
# Divisors of the kernels above (the kernels are multiplied by 1 / q).
SRM_NORMALIZERS: Tuple[float, float, float] = (4.0, 12.0, 2.0)


@lru_cache(maxsize=32)
def _srm_kernels_cached(device: torch.device,
                        dtype: torch.dtype) -> torch.Tensor:
    k = torch.tensor(SRM_KERNELS_INT, dtype=torch.float64)
    q = torch.tensor(SRM_NORMALIZERS, dtype=torch.float64)
    return (k / q.reshape(3, 1, 1)).to(device=device, dtype=dtype)


def srm_kernels(device: Optional[torch.device] = None,
                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The three normalised SRM kernels ``(3, 5, 5)`` of Zhou et al.

    ``SRM_KERNELS_INT[i] / SRM_NORMALIZERS[i]`` with divisors 4, 12, 2.

    Args:
        device (torch.device, optional): Defaults to None (CPU).
        dtype (torch.dtype): Defaults to torch.float32.

    Returns:
        torch.Tensor: ``(3, 5, 5)`` kernels.
    """
    device = torch.device('cpu') if device is None else torch.device(device)
    return _srm_kernels_cached(device, dtype)


def srm(x: torch.Tensor,
        reduce: str = 'sum',
        truncate: Optional[float] = None,
        padding_mode: str = 'reflect') -> torch.Tensor:
    """SRM noise residuals with the three kernels of Zhou et al. (CVPR 2018).

    Every kernel ``K_k`` (``k = 0, 1, 2``, see :data:`SRM_KERNELS_INT` and
    :data:`SRM_NORMALIZERS`) is correlated with every input channel, with
    reflect-101 borders (``scipy.ndimage.correlate(..., mode='mirror')``,
    OpenCV's ``BORDER_REFLECT_101``; Zhou et al. zero-pad, which only
    changes the two outermost rows/columns).

    * ``reduce='sum'`` (default, as in RGB-N's noise stream, a 3-in/3-out
      conv whose output ``k`` applies ``K_k`` to all colour channels and sums
      them): output ``(B, 3, H, W)`` whatever ``C``, so a 3-channel image
      gives a 3-channel residual that drops into a ViT patch embedding.
    * ``reduce='none'``: output ``(B, 3 * C, H, W)``; channel ``3 * c + k``
      is kernel ``k`` on input channel ``c``.

    ``truncate=T`` clips the residuals to ``[-T, T]`` after the reduction
    (the truncation of Fridrich & Kodovsky's rich models; ``T = 3`` there is
    meant for pixels on the 0-255 scale, so scale ``T`` with the input).
    Zhou et al. do not truncate, hence the default None.

    Args:
        x (torch.Tensor): Batch ``(B, C, H, W)``, ``H, W >= 3``.
        reduce (str): ``'sum'`` or ``'none'``. Defaults to 'sum'.
        truncate (float, optional): Clip threshold ``T``; None disables it.
            Defaults to None.
        padding_mode (str): torch padding mode. Defaults to 'reflect'.

    Returns:
        torch.Tensor: ``(B, 3, H, W)`` or ``(B, 3 * C, H, W)``.
    """
    x = _check_batch(x)
    if reduce not in ('sum', 'none'):
        raise ValueError(f"srm reduce must be 'sum' or 'none', got {reduce!r}")
    if truncate is not None and truncate <= 0:
        raise ValueError(f'srm truncate must be positive, got {truncate}')
    b, c, h, w = x.shape
    k = _srm_kernels_cached(x.device, x.dtype)
    xp = F.pad(x, (2, 2, 2, 2), mode=padding_mode)
    if reduce == 'sum':
        weight = k.unsqueeze(1).expand(3, c, 5, 5)
        out = F.conv2d(xp, weight)
    else:
        weight = k.unsqueeze(1).repeat(c, 1, 1, 1)  # (3C, 1, 5, 5)
        out = F.conv2d(xp, weight, groups=c)
    if truncate is not None:
        out = out.clamp(-truncate, truncate)
    return out
