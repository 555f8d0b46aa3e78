# Copyright (c) mmfocus contributors.
"""Modality transforms (Sobel, DCT, SRM) on ``results['img']``.

Thin pipeline wrappers around the batched filters that FoCus's data
preprocessor runs (:mod:`mmfocus.models.data_preprocessors.modality_filters`,
one implementation, tested against OpenCV / SciPy): use these where a
pipeline should store the filtered view, e.g. to visualise or cache it. The
filter runs in float64 on the CPU on one ``(1, C, H, W)`` tensor.
"""
from typing import Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmfocus.models.data_preprocessors.modality_filters import (block_dct,
                                                                 dct2, sobel,
                                                                 srm)
from mmfocus.registry import TRANSFORMS

__all__ = ['Sobel', 'DCT', 'SRM']


def _batched(fn, img: np.ndarray, **kwargs) -> np.ndarray:
    """``fn`` on ``img`` (``H x W`` or ``H x W x C``) as a one-image
    float64 batch; the result back as ``H x W x C'`` (``H x W`` for a 2-D
    input with one output channel)."""
    x = torch.from_numpy(np.ascontiguousarray(img, np.float64))
    x = x[None, None] if x.ndim == 2 else x.permute(2, 0, 1)[None]
    out = fn(x, **kwargs)[0].permute(1, 2, 0).numpy()
    return out[..., 0] if img.ndim == 2 and out.shape[-1] == 1 else out


class _ModalityTransform(BaseTransform):
    """Shared plumbing: read ``in_key``, filter, scale, standardise, store."""

    def __init__(self,
                 in_key: str = 'img',
                 out_key: str = 'img_modality',
                 scale: float = 1.0,
                 normalize: bool = False,
                 eps: float = 1e-6) -> None:
        self.in_key = in_key
        self.out_key = out_key
        self.scale = scale
        self.normalize = normalize
        self.eps = eps

    def _read(self, results: dict) -> np.ndarray:
        if self.in_key not in results:
            raise KeyError(f'{self.__class__.__name__} needs results'
                           f'[{self.in_key!r}], which is missing')
        img = results[self.in_key]
        if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
            raise ValueError(
                f'{self.__class__.__name__}: results[{self.in_key!r}] must '
                f'be an HxW or HxWxC numpy array, got '
                f'{getattr(img, "shape", type(img))}')
        return img.astype(np.float32)

    def _filter(self, img: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        """Compute the filtered view and store it in ``results[out_key]``.

        Args:
            results (dict): Result dict with ``results[in_key]``.

        Returns:
            dict: ``results`` with ``results[out_key]`` (float32, same
            shape as the input image unless documented otherwise).
        """
        img = self._read(results)
        out = self._filter(img).astype(np.float64)
        if self.scale != 1.0:
            out = out * self.scale
        if self.normalize:
            axes = (0, 1)
            mean = out.mean(axis=axes, keepdims=True)
            std = out.std(axis=axes, keepdims=True)
            out = (out - mean) / (std + self.eps)
        results[self.out_key] = out.astype(np.float32)
        return results

    def _base_repr(self) -> str:
        return (f'in_key={self.in_key!r}, out_key={self.out_key!r}, '
                f'scale={self.scale}, normalize={self.normalize}, '
                f'eps={self.eps}')


@TRANSFORMS.register_module()
class Sobel(_ModalityTransform):
    """Per-channel Sobel gradient of the image (``cv2.Sobel``, CV_32F).

    ``'x'`` / ``'y'`` are ``cv2.Sobel(img, cv2.CV_32F, 1, 0 / 0, 1, ksize)``
    with OpenCV's default border (reflect-101) on every channel;
    ``'magnitude'`` is ``sqrt(gx ** 2 + gy ** 2 + eps)``. Runs
    :func:`mmfocus.models.data_preprocessors.modality_filters.sobel`.

    Required Keys:

    - img (or ``in_key``): ``H x W x C`` (or ``H x W``) array, e.g. uint8.

    Added Keys:

    - img_sobel (or ``out_key``): float32 array of the image's shape.

    Args:
        mode (str): ``'magnitude'``, ``'x'`` or ``'y'``.
            Defaults to 'magnitude'.
        ksize (int): Sobel aperture, 1, 3, 5 or 7. Defaults to 3.
        in_key (str): Key of the input image. Defaults to 'img'.
        out_key (str): Key of the output. Defaults to 'img_sobel'.
        scale (float): Multiplier applied to the output (before
            ``normalize``). Defaults to 1.0.
        normalize (bool): Standardise the output per channel (zero mean,
            unit std), as ``ModalityFilter(normalize=True)`` does.
            Defaults to False.
        eps (float): Term under the square root of the magnitude and added
            to the std when normalising. Defaults to 1e-6.
    """

    def __init__(self,
                 mode: str = 'magnitude',
                 ksize: int = 3,
                 in_key: str = 'img',
                 out_key: str = 'img_sobel',
                 scale: float = 1.0,
                 normalize: bool = False,
                 eps: float = 1e-6) -> None:
        super().__init__(in_key, out_key, scale, normalize, eps)
        if mode not in ('magnitude', 'x', 'y'):
            raise ValueError(f"Sobel mode must be 'magnitude', 'x' or 'y', "
                             f'got {mode!r}')
        if ksize not in (1, 3, 5, 7):
            raise ValueError(f'Sobel ksize must be 1, 3, 5 or 7, got {ksize}')
        self.mode = mode
        self.ksize = ksize

    def _filter(self, img: np.ndarray) -> np.ndarray:
        return _batched(sobel, img, mode=self.mode, ksize=self.ksize,
                        eps=self.eps)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mode={self.mode!r}, '
                f'ksize={self.ksize}, {self._base_repr()})')


@TRANSFORMS.register_module()
class DCT(_ModalityTransform):
    """2-D DCT-II spectrum of every channel (``scipy.fft.dctn``).

    ``block=None``: one DCT over the whole image per channel (F3-Net style);
    ``block=8``: JPEG-style DCT of every ``8 x 8`` tile, coefficients kept
    in place. With ``log=True`` the stored value is exactly
    ``log(|D| + log_eps)``. Runs the batched ``dct2``
    / ``block_dct``.

    Required Keys:

    - img (or ``in_key``): ``H x W x C`` (or ``H x W``) array; for block
      mode ``H`` and ``W`` must be multiples of ``block``.

    Added Keys:

    - img_dct (or ``out_key``): float32 array of the image's shape.

    Args:
        block (int, optional): Tile size, or None for the full image.
            Defaults to None.
        norm (str, optional): scipy ``norm``: ``'ortho'`` or None.
            Defaults to 'ortho'.
        log (bool): Store ``log(|D| + log_eps)``. Defaults to True.
        log_eps (float): Offset inside the log. Defaults to 1e-6.
        in_key (str): Key of the input image. Defaults to 'img'.
        out_key (str): Key of the output. Defaults to 'img_dct'.
        scale (float): Multiplier applied to the output. Defaults to 1.0.
        normalize (bool): Standardise per channel. Defaults to False.
        eps (float): Added to the std when normalising. Defaults to 1e-6.
    """

    def __init__(self,
                 block: Optional[int] = None,
                 norm: Optional[str] = 'ortho',
                 log: bool = True,
                 log_eps: float = 1e-6,
                 in_key: str = 'img',
                 out_key: str = 'img_dct',
                 scale: float = 1.0,
                 normalize: bool = False,
                 eps: float = 1e-6) -> None:
        super().__init__(in_key, out_key, scale, normalize, eps)
        if norm not in ('ortho', None):
            raise ValueError(f"DCT norm must be 'ortho' or None, got {norm!r}")
        if block is not None and block < 1:
            raise ValueError(
                f'DCT block must be positive or None, got {block}')
        self.block = block
        self.norm = norm
        self.log = log
        self.log_eps = log_eps

    def _filter(self, img: np.ndarray) -> np.ndarray:
        if self.block is None:
            return _batched(dct2, img, norm=self.norm, log=self.log,
                            eps=self.log_eps)
        h, w = img.shape[:2]
        if h % self.block or w % self.block:
            raise ValueError(
                f'DCT block={self.block} needs results[{self.in_key!r}] '
                f'height and width divisible by {self.block}, got {h}x{w}')
        return _batched(block_dct, img, block=self.block, norm=self.norm,
                        log=self.log, eps=self.log_eps)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(block={self.block}, '
                f'norm={self.norm!r}, log={self.log}, '
                f'log_eps={self.log_eps}, {self._base_repr()})')


@TRANSFORMS.register_module()
class SRM(_ModalityTransform):
    """SRM noise residuals with the three kernels of Zhou et al. (CVPR 2018).

    Kernel ``k`` (the 1/4-normalised 3x3 "KB", the 1/12-normalised 5x5
    "KV" and the 1/2-normalised 2nd-order horizontal kernel) is correlated
    with every channel using OpenCV's reflect-101 border. ``reduce='sum'``
    sums over the colour channels (output ``H x W x 3``, as RGB-N's noise
    stream); ``reduce='none'`` keeps ``H x W x 3C`` with channel
    ``3 * c + k``. ``truncate=T`` clips to ``[-T, T]`` (Fridrich & Kodovsky
    use ``T = 3`` on the 0-255 scale). Runs
    :func:`mmfocus.models.data_preprocessors.modality_filters.srm`.

    Required Keys:

    - img (or ``in_key``): ``H x W x C`` (or ``H x W``) array.

    Added Keys:

    - img_srm (or ``out_key``): float32 ``H x W x 3`` (or ``H x W x 3C``).

    Args:
        reduce (str): ``'sum'`` or ``'none'``. Defaults to 'sum'.
        truncate (float, optional): Clip threshold, None for none.
            Defaults to None.
        in_key (str): Key of the input image. Defaults to 'img'.
        out_key (str): Key of the output. Defaults to 'img_srm'.
        scale (float): Multiplier applied to the output (after
            truncation). Defaults to 1.0.
        normalize (bool): Standardise per channel. Defaults to False.
        eps (float): Added to the std when normalising. Defaults to 1e-6.
    """

    def __init__(self,
                 reduce: str = 'sum',
                 truncate: Optional[float] = None,
                 in_key: str = 'img',
                 out_key: str = 'img_srm',
                 scale: float = 1.0,
                 normalize: bool = False,
                 eps: float = 1e-6) -> None:
        super().__init__(in_key, out_key, scale, normalize, eps)
        if reduce not in ('sum', 'none'):
            raise ValueError(f"SRM reduce must be 'sum' or 'none', "
                             f'got {reduce!r}')
        if truncate is not None and truncate <= 0:
            raise ValueError(f'SRM truncate must be positive, got {truncate}')
        self.reduce = reduce
        self.truncate = truncate

    def _filter(self, img: np.ndarray) -> np.ndarray:
        return _batched(srm, img, reduce=self.reduce, truncate=self.truncate)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(reduce={self.reduce!r}, '
                f'truncate={self.truncate}, {self._base_repr()})')
