# Copyright (c) mmfocus contributors.
"""Resize and flip that keep image, mask and landmarks consistent."""
from typing import Sequence, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmfocus.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ResizeFace(BaseTransform):
    """Resize the face crop, its mask (bilinear, soft) and landmarks.

    **Required Keys:** ``img``; optional ``gt_mask``, ``landmarks``

    **Modified Keys:** ``img``, ``img_shape``, ``gt_mask``, ``landmarks``

    Args:
        scale (int | tuple[int, int]): Output (w, h) or a side length.
        interpolation (str): ``'area'`` or ``'bilinear'``.
            Defaults to ``'area'`` (no aliasing when shrinking).
    """

    def __init__(self, scale: Union[int, Sequence[int]],
                 interpolation: str = 'area') -> None:
        self.scale = (scale, scale) if isinstance(scale, int) else \
            tuple(scale)
        modes = dict(area=cv2.INTER_AREA, bilinear=cv2.INTER_LINEAR)
        if interpolation not in modes:
            raise ValueError(f'interpolation must be one of {list(modes)}')
        self.interpolation = interpolation
        self._flag = modes[interpolation]

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        W, H = self.scale
        if (w, h) != (W, H):
            results['img'] = cv2.resize(img, (W, H),
                                        interpolation=self._flag)
            if results.get('gt_mask') is not None:
                results['gt_mask'] = cv2.resize(
                    results['gt_mask'], (W, H),
                    interpolation=cv2.INTER_LINEAR)
            if results.get('landmarks') is not None:
                results['landmarks'] = results['landmarks'] * np.array(
                    [W / w, H / h], np.float32)
        results['img_shape'] = (H, W)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class RandomFaceFlip(BaseTransform):
    """Horizontal flip of image, mask and landmarks with probability ``prob``.

    **Required Keys:** ``img``; optional ``gt_mask``, ``landmarks``

    **Modified Keys:** ``img``, ``gt_mask``, ``landmarks``

    **Added Keys:** ``flip``

    Args:
        prob (float): Defaults to 0.5.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.prob)
        results['flip'] = flip
        if not flip:
            return results
        img = results['img']
        w = img.shape[1]
        results['img'] = np.ascontiguousarray(img[:, ::-1])
        if results.get('gt_mask') is not None:
            results['gt_mask'] = np.ascontiguousarray(
                results['gt_mask'][:, ::-1])
        if results.get('landmarks') is not None:
            lm = results['landmarks'].copy()
            lm[:, 0] = w - 1 - lm[:, 0]
            results['landmarks'] = lm
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'
