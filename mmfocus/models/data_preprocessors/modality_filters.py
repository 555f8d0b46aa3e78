# Copyright (c) mmfocus contributors.
"""Modality filters (Sobel, DCT, SRM) as batched tensor operations.

FoCus (Tian et al., TIFS 2024) feeds a second ViT with a filtered view of the
face; Table V of the paper compares Sobel, DCT and SRM views. The functions
here compute those views on a batch ``(B, C, H, W)`` of any float dtype, on
CPU or CUDA, with fixed kernels / transform matrices that are built once per
``(size, device, dtype)`` and cached. Nothing here holds learnable weights.

The reference each function is tested against (``tests/test_models/
test_modality.py``):

* :func:`sobel`: ``cv2.Sobel(img, cv2.CV_32F, dx, dy, ksize)`` with OpenCV's
  default border ``BORDER_REFLECT_101`` (``torch`` padding mode ``'reflect'``).
* :func:`dct2` / :func:`idct2`: ``scipy.fft.dctn`` / ``idctn`` with
  ``type=2`` over the last two axes.
* :func:`block_dct`: ``scipy.fft.dctn`` on every ``block x block`` tile.
* :func:`srm`: ``scipy.ndimage.correlate(..., mode='mirror')`` (= reflect-101)
  with the three SRM kernels of Zhou et al. (CVPR 2018).

The DCT matmuls keep float32 accuracy on GPUs even when TF32 / bfloat16
matmuls are enabled globally (see :func:`_matmul`; measured on an H200:
plain TF32 gave 5e-4 relative error, the compensated product 3e-7).
"""
import math
from functools import lru_cache
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfocus.registry import MODELS
from ._batch import _check_batch
from .srm import SRM_KERNELS_INT, SRM_NORMALIZERS, srm, srm_kernels

__all__ = [
    'sobel', 'sobel_kernels', 'dct_matrix', 'dct2', 'idct2', 'block_dct',
    'srm', 'srm_kernels', 'SRM_KERNELS_INT', 'SRM_NORMALIZERS', 'standardize',
    'ModalityFilter'
]


_SOBEL_MODES = ('magnitude', 'x', 'y')
_DCT_NORMS = ('ortho', None)
_MODALITIES = ('rgb', 'sobel', 'dct', 'srm')


def _binomial(n: int) -> list:
    """Row ``n`` of Pascal's triangle, e.g. ``[1, 2, 1]`` for ``n = 2``."""
    return [math.comb(n, k) for k in range(n + 1)]


def _sobel_1d(ksize: int) -> Tuple[list, list]:
    """1-D smoothing and first-derivative taps of an OpenCV Sobel kernel.

    For ``ksize >= 3`` OpenCV's Sobel is separable: a binomial smoothing of
    length ``ksize`` across the derivative axis and ``[-1, 0, 1]`` convolved
    with a binomial of length ``ksize - 2`` along it. ``ksize = 1`` means no
    smoothing and a plain ``[-1, 0, 1]`` derivative.
    """
    if ksize == 1:
        return [1], [-1, 0, 1]
    smooth = _binomial(ksize - 1)
    base = _binomial(ksize - 3)
    deriv = [0] * ksize
    # Convolve [-1, 0, 1] with the binomial of length ksize - 2.
    for i, b in enumerate(base):
        deriv[i] -= b
        deriv[i + 2] += b
    return smooth, deriv


@lru_cache(maxsize=64)
def _sobel_kernels_cached(ksize: int, device: torch.device,
                          dtype: torch.dtype) -> torch.Tensor:
    smooth, deriv = _sobel_1d(ksize)
    s = torch.tensor(smooth, dtype=torch.float64)
    d = torch.tensor(deriv, dtype=torch.float64)
    kx = torch.outer(s, d)  # d/dx: derivative along columns (width)
    ky = torch.outer(d, s)  # d/dy: derivative along rows (height)
    if ksize == 1:  # 1x3 and 3x1: zero-pad both to 3x3 (same result)
        kx = F.pad(kx, (0, 0, 1, 1))
        ky = F.pad(ky, (1, 1, 0, 0))
    return torch.stack([kx, ky]).to(device=device, dtype=dtype)


def sobel_kernels(ksize: int = 3,
                  device: Optional[torch.device] = None,
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The OpenCV Sobel kernels for d/dx and d/dy, stacked.

    They are correlation kernels (as ``cv2.filter2D`` and ``F.conv2d`` use
    them): for ``ksize = 3``, ``kx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]``
    and ``ky = kx.T``. For ``ksize = 1`` OpenCV uses the unsmoothed
    ``1 x 3`` / ``3 x 1`` kernels ``[-1, 0, 1]``; they are returned
    zero-padded to ``3 x 3``. Cached per ``(ksize, device, dtype)``.

    Args:
        ksize (int): Aperture size, one of 1, 3, 5, 7. Defaults to 3.
        device (torch.device, optional): Device of the result.
            Defaults to None (CPU).
        dtype (torch.dtype): dtype of the result. Defaults to torch.float32.

    Returns:
        torch.Tensor: ``(2, k, k)`` with ``k = max(ksize, 3)``; index 0 is
        d/dx (along the width), index 1 is d/dy (along the height).
    """
    if ksize not in (1, 3, 5, 7):
        raise ValueError(f'sobel ksize must be 1, 3, 5 or 7, got {ksize}')
    device = torch.device('cpu') if device is None else torch.device(device)
    return _sobel_kernels_cached(int(ksize), device, dtype)


def _depthwise(x: torch.Tensor, kernel: torch.Tensor,
               padding_mode: str) -> torch.Tensor:
    """Correlate every channel of ``x`` with one 2-D ``kernel``."""
    c = x.shape[1]
    kh, kw = kernel.shape[-2:]
    ph, pw = kh // 2, kw // 2
    if ph or pw:
        x = F.pad(x, (pw, pw, ph, ph), mode=padding_mode)
    weight = kernel.reshape(1, 1, kh, kw).expand(c, 1, kh, kw)
    return F.conv2d(x, weight, groups=c)


def sobel(x: torch.Tensor,
          mode: str = 'magnitude',
          ksize: int = 3,
          eps: float = 1e-6,
          padding_mode: str = 'reflect') -> torch.Tensor:
    """Per-channel Sobel gradient of a batch, matching ``cv2.Sobel``.

    ``mode='x'`` equals ``cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=ksize)`` on
    every channel and ``mode='y'`` equals ``cv2.Sobel(img, cv2.CV_32F, 0, 1,
    ksize=ksize)``, both with OpenCV's default ``BORDER_REFLECT_101``, which
    is ``padding_mode='reflect'`` in torch. ``mode='magnitude'`` returns
    ``sqrt(gx ** 2 + gy ** 2 + eps)`` (``eps`` keeps the gradient of the
    square root finite on flat regions).

    Args:
        x (torch.Tensor): Batch ``(B, C, H, W)``; integer dtypes are cast to
            float32. ``H`` and ``W`` must exceed ``ksize // 2`` for
            reflect padding.
        mode (str): ``'magnitude'``, ``'x'`` or ``'y'``.
            Defaults to 'magnitude'.
        ksize (int): Aperture size, 1, 3, 5 or 7 (as in OpenCV).
            Defaults to 3.
        eps (float): Added under the square root for ``'magnitude'``.
            Defaults to 1e-6.
        padding_mode (str): torch padding mode: ``'reflect'`` (OpenCV's
            default border), ``'replicate'`` or ``'circular'``.
            Defaults to 'reflect'.

    Returns:
        torch.Tensor: ``(B, C, H, W)`` in the dtype of ``x``.
    """
    x = _check_batch(x)
    if mode not in _SOBEL_MODES:
        raise ValueError(f'sobel mode must be one of {_SOBEL_MODES}, '
                         f'got {mode!r}')
    if ksize not in (1, 3, 5, 7):
        raise ValueError(f'sobel ksize must be 1, 3, 5 or 7, got {ksize}')
    kx, ky = _sobel_kernels_cached(int(ksize), x.device, x.dtype)
    gx = _depthwise(x, kx, padding_mode) if mode != 'y' else None
    gy = _depthwise(x, ky, padding_mode) if mode != 'x' else None
    if mode == 'x':
        return gx
    if mode == 'y':
        return gy
    return torch.sqrt(gx * gx + gy * gy + eps)


@lru_cache(maxsize=64)
def _dct_matrix_cached(n: int, norm: Optional[str], inverse: bool,
                       device: torch.device,
                       dtype: torch.dtype) -> torch.Tensor:
    k = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    i = torch.arange(n, dtype=torch.float64).unsqueeze(0)
    mat = torch.cos(math.pi * (2 * i + 1) * k / (2 * n))
    if norm == 'ortho':
        mat = mat * math.sqrt(2.0 / n)
        mat[0] = mat[0] / math.sqrt(2.0)
    else:  # scipy's norm=None ("backward"): y_k = 2 sum_n x_n cos(...)
        mat = 2.0 * mat
    if inverse:
        mat = mat.T.clone() if norm == 'ortho' else torch.linalg.inv(mat)
    return mat.to(device=device, dtype=dtype)


def dct_matrix(n: int,
               norm: Optional[str] = 'ortho',
               inverse: bool = False,
               device: Optional[torch.device] = None,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``n x n`` DCT-II matrix ``C`` with ``dct(v) = C @ v``.

    ``C[k, i] = s_k * cos(pi * (2 i + 1) * k / (2 n))`` with
    ``s_0 = sqrt(1 / n)``, ``s_k = sqrt(2 / n)`` for ``norm='ortho'``
    (then ``C`` is orthogonal) and ``s_k = 2`` for ``norm=None`` (scipy's
    unnormalised "backward" convention). Built in float64, cast, and cached
    per ``(n, norm, inverse, device, dtype)``.

    Args:
        n (int): Transform length.
        norm (str, optional): ``'ortho'`` or None. Defaults to 'ortho'.
        inverse (bool): Return the inverse matrix (the DCT-III that undoes
            the DCT-II). Defaults to False.
        device (torch.device, optional): Defaults to None (CPU).
        dtype (torch.dtype): Defaults to torch.float32.

    Returns:
        torch.Tensor: ``(n, n)`` matrix.
    """
    if norm not in _DCT_NORMS:
        raise ValueError(f'DCT norm must be one of {_DCT_NORMS}, got {norm!r}')
    if n < 1:
        raise ValueError(f'DCT length must be positive, got {n}')
    device = torch.device('cpu') if device is None else torch.device(device)
    return _dct_matrix_cached(int(n), norm, bool(inverse), device, dtype)


def _split_bf16(t: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Split float32 ``t`` into ``p0 + p1 + p2``, ``p0`` and ``p1`` exact in
    bfloat16 (8 significant bits each) and ``|p2| <= 2 ** -16 |t|``."""
    p0 = t.to(torch.bfloat16).to(t.dtype)
    r = t - p0
    p1 = r.to(torch.bfloat16).to(t.dtype)
    return p0, p1, r - p1


def _matmul(a: torch.Tensor,
            b: torch.Tensor,
            compensate: Optional[bool] = None) -> torch.Tensor:
    """``a @ b`` that keeps float32 accuracy on accelerators.

    On CUDA, float32 matmuls may run in TF32 (``allow_tf32`` /
    ``set_float32_matmul_precision('high')``, 10-bit mantissa) or bfloat16
    (``'medium'``), which measured a 5e-4 relative DCT error on an H200 and
    ruins the log spectrum of small coefficients. Rather than touch those
    global flags, float32 operands off the CPU are split into three parts
    (:func:`_split_bf16`) and the six partial products whose sum carries
    float32 accuracy are added, smallest first: the bfloat16-exact parts
    multiply exactly at any of those precisions and the rounding of the
    tiny remainders is below float32 resolution. Other dtypes/devices use
    a plain matmul. ``compensate`` forces the choice (None: automatic).
    """
    if compensate is None:
        compensate = a.dtype == torch.float32 and a.device.type != 'cpu'
    if not compensate:
        return a @ b
    a0, a1, a2 = _split_bf16(a)
    b0, b1, b2 = _split_bf16(b)
    out = a0 @ b2 + a2 @ b0
    out = out + a1 @ b1
    out = out + (a0 @ b1 + a1 @ b0)
    return out + a0 @ b0


def _log_magnitude(d: torch.Tensor, eps: float) -> torch.Tensor:
    return torch.log(d.abs() + eps)


def dct2(x: torch.Tensor,
         norm: Optional[str] = 'ortho',
         log: bool = True,
         eps: float = 1e-6) -> torch.Tensor:
    """Full-image 2-D DCT-II of every channel (the spectrum used by F3-Net).

    With ``log=False`` the result equals ``scipy.fft.dctn(a, type=2,
    norm=norm, axes=(-2, -1))``: ``D = C_H @ x @ C_W.T`` with the matrices of
    :func:`dct_matrix`. With ``log=True`` the result is exactly
    ``torch.log(torch.abs(D) + eps)``, a compressed magnitude spectrum whose
    sign information is dropped (the DC term of an ortho DCT of a 224x224
    image in [0, 255] is about 224 * mean, ``log`` maps it to ~10, and
    exact zeros map to ``log(eps)``).

    Args:
        x (torch.Tensor): Batch ``(B, C, H, W)``.
        norm (str, optional): ``'ortho'`` or None (scipy's default
            unnormalised DCT-II). Defaults to 'ortho'.
        log (bool): Return ``log(|D| + eps)`` instead of ``D``.
            Defaults to True.
        eps (float): Offset inside the log. Defaults to 1e-6.

    Returns:
        torch.Tensor: ``(B, C, H, W)`` in the dtype of ``x``.
    """
    x = _check_batch(x)
    h, w = x.shape[-2:]
    ch = dct_matrix(h, norm, device=x.device, dtype=x.dtype)
    cw = dct_matrix(w, norm, device=x.device, dtype=x.dtype)
    d = _matmul(_matmul(ch, x), cw.T)
    return _log_magnitude(d, eps) if log else d


def idct2(d: torch.Tensor, norm: Optional[str] = 'ortho') -> torch.Tensor:
    """Inverse of :func:`dct2` with ``log=False`` (``scipy.fft.idctn``).

    Args:
        d (torch.Tensor): DCT coefficients ``(B, C, H, W)``.
        norm (str, optional): ``'ortho'`` or None. Defaults to 'ortho'.

    Returns:
        torch.Tensor: ``(B, C, H, W)`` signal.
    """
    d = _check_batch(d, 'd')
    h, w = d.shape[-2:]
    ih = dct_matrix(h, norm, inverse=True, device=d.device, dtype=d.dtype)
    iw = dct_matrix(w, norm, inverse=True, device=d.device, dtype=d.dtype)
    return _matmul(_matmul(ih, d), iw.T)


def block_dct(x: torch.Tensor,
              block: int = 8,
              norm: Optional[str] = 'ortho',
              log: bool = False,
              eps: float = 1e-6) -> torch.Tensor:
    """JPEG-style block DCT-II: every ``block x block`` tile transformed.

    Each non-overlapping tile ``x[..., i:i+block, j:j+block]`` is replaced by
    ``scipy.fft.dctn(tile, type=2, norm=norm)``; the output keeps the input
    layout (coefficient ``(u, v)`` of tile ``(p, q)`` sits at
    ``[p * block + u, q * block + v]``). ``log=True`` applies
    ``log(|D| + eps)`` as in :func:`dct2`.

    Args:
        x (torch.Tensor): Batch ``(B, C, H, W)`` with ``H`` and ``W``
            multiples of ``block``.
        block (int): Tile size. Defaults to 8.
        norm (str, optional): ``'ortho'`` or None. Defaults to 'ortho'.
        log (bool): Return ``log(|D| + eps)``. Defaults to False.
        eps (float): Offset inside the log. Defaults to 1e-6.

    Returns:
        torch.Tensor: ``(B, C, H, W)`` in the dtype of ``x``.
    """
    x = _check_batch(x)
    b, c, h, w = x.shape
    if block < 1 or h % block or w % block:
        raise ValueError(f'block_dct needs H and W divisible by block='
                         f'{block}, got H={h}, W={w}')
    mat = dct_matrix(block, norm, device=x.device, dtype=x.dtype)
    # (B, C, H/b, W/b, b, b): one tile per trailing 2-D matrix.
    tiles = x.reshape(b, c, h // block, block, w // block, block)
    tiles = tiles.permute(0, 1, 2, 4, 3, 5)
    d = _matmul(_matmul(mat, tiles), mat.T)
    d = d.permute(0, 1, 2, 4, 3, 5)
    d = d.reshape(b, c, h, w)
    return _log_magnitude(d, eps) if log else d


def standardize(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Zero mean, unit (population) std per image and channel.

    Args:
        x (torch.Tensor): ``(B, C, H, W)``.
        eps (float): Added to the std. Defaults to 1e-6.

    Returns:
        torch.Tensor: ``(x - mean) / (std + eps)`` over ``(H, W)``.
    """
    mean = x.mean(dim=(-2, -1), keepdim=True)
    std = x.std(dim=(-2, -1), keepdim=True, unbiased=False)
    return (x - mean) / (std + eps)


@MODELS.register_module()
class ModalityFilter(nn.Module):
    """Turn a batch of raw RGB faces into the second FoCus modality.

    ``forward`` takes **unnormalised** RGB in ``[0, 255]`` (``B, 3, H, W``),
    applies the filter on that scale, and (if ``normalize``) standardises
    the result per image and channel to zero mean and unit std.
    Interpretation of the paper's "normalised like the RGB input": the RGB
    branch sees mean/std-normalised pixels of roughly zero mean and unit
    spread, so the filtered branch gets the same statistics; fixed dataset
    statistics for each filter would be the alternative, and per-image
    standardisation needs none.

    * ``'rgb'``: ``x`` unchanged (no standardisation; the data preprocessor
      normalises RGB with its mean/std).
    * ``'sobel'``: :func:`sobel` per channel (3 channels).
    * ``'dct'``: :func:`dct2` per channel, ``log(|D| + dct_eps)``
      (3 channels).
    * ``'srm'``: :func:`srm` summed over colour channels (3 channels).

    The filter always runs in float32 (or float64 for float64 input) with
    autocast disabled, since 0-255 values and the DCT sums lose too much
    precision in half precision; the output is cast back to ``x.dtype``.

    Args:
        modality (str): ``'sobel'``, ``'dct'``, ``'srm'`` or ``'rgb'``.
            Defaults to 'sobel'.
        sobel_mode (str): ``'magnitude'``, ``'x'`` or ``'y'``.
            Defaults to 'magnitude'.
        sobel_ksize (int): Sobel aperture. Defaults to 3.
        dct_log (bool): Log-magnitude DCT spectrum. Defaults to True.
        dct_eps (float): ``eps`` of ``log(|D| + eps)``. With 0-255 input the
            float32 rounding noise of ``D`` is about 1e-3, so coefficients
            below that are noise that a tiny ``eps`` spreads down to
            ``log(eps)``; ``dct_eps=1.0`` (``log1p(|D|)``) is the robust
            alternative. Defaults to 1e-6.
        srm_truncate (float, optional): SRM truncation on the 0-255 scale.
            Defaults to None.
        normalize (bool | str): ``True`` / ``'image'``: standardise per
            image and channel; ``'fixed'``: ``(y - mean) / std`` with fixed
            per-channel statistics of the filter output (``mean``, ``std``,
            e.g. measured on the training set by
            ``tools/analysis/modality_stats.py``), so a globally blurred or
            sharpened face keeps its lower or higher gradient energy;
            ``False``: the raw filter output. Defaults to True.
        eps (float): Stabiliser of the standardisation. Defaults to 1e-6.
        mean, std (Sequence[float], optional): The fixed statistics (3
            values each, or one), required by ``normalize='fixed'``.
            Defaults to None.

    Example:
        >>> f = ModalityFilter('sobel')
        >>> f(torch.rand(2, 3, 32, 32) * 255).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(self,
                 modality: str = 'sobel',
                 sobel_mode: str = 'magnitude',
                 sobel_ksize: int = 3,
                 dct_log: bool = True,
                 dct_eps: float = 1e-6,
                 srm_truncate: Optional[float] = None,
                 normalize: Union[bool, str] = True,
                 eps: float = 1e-6,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        if normalize is True:
            normalize = 'image'
        if normalize not in (False, 'image', 'fixed'):
            raise ValueError(f"ModalityFilter normalize must be True, False, "
                             f"'image' or 'fixed', got {normalize!r}")
        if (normalize == 'fixed') != (mean is not None and std is not None):
            raise ValueError("ModalityFilter: normalize='fixed' needs mean and "
                             'std (and they are only used with it)')
        if mean is not None:
            mean_t = torch.as_tensor(mean, dtype=torch.float64).reshape(-1)
            std_t = torch.as_tensor(std, dtype=torch.float64).reshape(-1)
            if mean_t.numel() not in (1, 3) or std_t.numel() not in (1, 3) \
                    or (std_t <= 0).any():
                raise ValueError('ModalityFilter mean/std need 1 or 3 values '
                                 f'(std > 0), got {mean} / {std}')
            self.register_buffer('stat_mean', mean_t.view(-1, 1, 1), False)
            self.register_buffer('stat_std', std_t.view(-1, 1, 1), False)
        if modality not in _MODALITIES:
            raise ValueError(f'ModalityFilter modality must be one of '
                             f'{_MODALITIES}, got {modality!r}')
        if sobel_mode not in _SOBEL_MODES:
            raise ValueError(f'ModalityFilter sobel_mode must be one of '
                             f'{_SOBEL_MODES}, got {sobel_mode!r}')
        if sobel_ksize not in (1, 3, 5, 7):
            raise ValueError(
                f'ModalityFilter sobel_ksize must be 1, 3, 5 or 7, '
                f'got {sobel_ksize}')
        self.modality = modality
        self.sobel_mode = sobel_mode
        self.sobel_ksize = sobel_ksize
        self.dct_log = dct_log
        self.dct_eps = dct_eps
        self.srm_truncate = srm_truncate
        self.normalize = normalize
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Filter a batch.

        Args:
            x (torch.Tensor): Unnormalised RGB ``(B, 3, H, W)`` in [0, 255].

        Returns:
            torch.Tensor: ``(B, 3, H, W)`` filtered view in ``x.dtype``
            (float32 for integer input).
        """
        x = _check_batch(x)
        if self.modality == 'rgb':
            return x
        out_dtype = x.dtype
        work = x if x.dtype == torch.float64 else x.float()
        with torch.autocast(device_type=x.device.type, enabled=False):
            if self.modality == 'sobel':
                y = sobel(work, mode=self.sobel_mode, ksize=self.sobel_ksize)
            elif self.modality == 'dct':
                y = dct2(
                    work, norm='ortho', log=self.dct_log, eps=self.dct_eps)
            else:
                y = srm(work, reduce='sum', truncate=self.srm_truncate)
            if self.normalize == 'image':
                y = standardize(y, self.eps)
            elif self.normalize == 'fixed':
                y = (y - self.stat_mean.to(y.dtype)) / self.stat_std.to(
                    y.dtype)
        return y.to(out_dtype)

    def extra_repr(self) -> str:
        return (f'modality={self.modality!r}, sobel_mode={self.sobel_mode!r}, '
                f'sobel_ksize={self.sobel_ksize}, dct_log={self.dct_log}, '
                f'dct_eps={self.dct_eps}, '
                f'srm_truncate={self.srm_truncate}, '
                f'normalize={self.normalize!r}, eps={self.eps}')
