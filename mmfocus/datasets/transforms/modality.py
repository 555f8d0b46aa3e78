# Copyright (c) mmfocus contributors.
"""CPU modality transforms (Sobel, DCT, SRM) on ``results['img']``.

They compute, with OpenCV / SciPy on one ``H x W x C`` image, the same views
as the batched tensor ops in :mod:`mmfocus.models.utils.modality` (which
FoCus runs on the GPU in its data preprocessor): use these where a pipeline
should store the filtered view, e.g. to visualise or cache it.
"""
from typing import Optional

import cv2
import numpy as np
import scipy.fft
from mmcv.transforms import BaseTransform

from mmfocus.registry import TRANSFORMS

__all__ = ['Sobel', 'DCT', 'SRM']

# Zhou et al., CVPR 2018 (RGB-N noise stream), kernels from Fridrich &
# Kodovsky, TIFS 2012; the same literals as
# mmfocus.models.utils.modality.SRM_KERNELS_INT (kept separate so that data
# code does not import model code).
# yapf: disable
_SRM_KERNELS = np.array([
    [[0, 0, 0, 0, 0],
     [0, -1, 2, -1, 0],
     [0, 2, -4, 2, 0],
     [0, -1, 2, -1, 0],
     [0, 0, 0, 0, 0]],
    [[-1, 2, -2, 2, -1],
     [2, -6, 8, -6, 2],
     [-2, 8, -12, 8, -2],
     [2, -6, 8, -6, 2],
     [-1, 2, -2, 2, -1]],
    [[0, 0, 0, 0, 0],
     [0, 0, 0, 0, 0],
     [0, 1, -2, 1, 0],
     [0, 0, 0, 0, 0],
     [0, 0, 0, 0, 0]],
], dtype=np.float64) / np.array([4.0, 12.0, 2.0]).reshape(3, 1, 1)
# yapf: enable


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
    ``'magnitude'`` is ``sqrt(gx ** 2 + gy ** 2 + eps)``. Matches
    :func:`mmfocus.models.utils.modality.sobel`.

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
        if self.mode == 'x':
            return cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=self.ksize)
        if self.mode == 'y':
            return cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=self.ksize)
        gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=self.ksize)
        gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=self.ksize)
        gx, gy = gx.astype(np.float64), gy.astype(np.float64)
        return np.sqrt(gx * gx + gy * gy + self.eps)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(mode={self.mode!r}, '
                f'ksize={self.ksize}, {self._base_repr()})')


@TRANSFORMS.register_module()
class DCT(_ModalityTransform):
    """2-D DCT-II spectrum of every channel (``scipy.fft.dctn``).

    ``block=None``: one DCT over the whole image per channel (F3-Net style);
    ``block=8``: JPEG-style DCT of every ``8 x 8`` tile, coefficients kept
    in place. With ``log=True`` the stored value is exactly
    ``log(|D| + log_eps)``. Matches :func:`mmfocus.models.utils.modality.dct2`
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
        img = img.astype(np.float64)
        if self.block is None:
            d = scipy.fft.dctn(img, type=2, norm=self.norm, axes=(0, 1))
        else:
            b = self.block
            h, w = img.shape[:2]
            if h % b or w % b:
                raise ValueError(
                    f'DCT block={b} needs results[{self.in_key!r}] height '
                    f'and width divisible by {b}, got {h}x{w}')
            rest = img.shape[2:]
            tiles = img.reshape(h // b, b, w // b, b, *rest)
            d = scipy.fft.dctn(tiles, type=2, norm=self.norm, axes=(1, 3))
            d = d.reshape(img.shape)
        if self.log:
            d = np.log(np.abs(d) + self.log_eps)
        return d

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
    use ``T = 3`` on the 0-255 scale). Matches
    :func:`mmfocus.models.utils.modality.srm`.

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
        img = img.astype(np.float64)
        if img.ndim == 2:
            img = img[..., None]
        h, w, c = img.shape
        # res[..., ch, k]: kernel k correlated with channel ch.
        res = np.empty((h, w, c, len(_SRM_KERNELS)), dtype=np.float64)
        for ch in range(c):
            for k, kernel in enumerate(_SRM_KERNELS):
                res[..., ch, k] = cv2.filter2D(
                    img[..., ch],
                    cv2.CV_64F,
                    kernel,
                    borderType=cv2.BORDER_REFLECT_101)
        if self.reduce == 'sum':
            out = res.sum(axis=2)
        else:
            out = res.reshape(h, w, c * len(_SRM_KERNELS))
        if self.truncate is not None:
            out = np.clip(out, -self.truncate, self.truncate)
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(reduce={self.reduce!r}, '
                f'truncate={self.truncate}, {self._base_repr()})')
