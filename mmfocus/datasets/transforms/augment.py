# Copyright (c) mmfocus contributors.
"""Augmentations that keep image, mask and landmarks consistent.

With few training faces a detector can memorise every real image exactly
and call anything else fake; geometric and photometric jitter of both
classes forces it to learn the blending cues instead.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmfocus.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomAffineFace(BaseTransform):
    """Random rotation, scale and shift of image, mask and landmarks.

    **Required Keys:** ``img``; optional ``gt_mask``, ``landmarks``

    **Modified Keys:** ``img``, ``gt_mask``, ``landmarks``

    Args:
        max_rotate (float): Degrees. Defaults to 8.
        scale (tuple[float, float]): Defaults to (0.9, 1.1).
        max_shift (float): Fraction of the side. Defaults to 0.05.
        prob (float): Defaults to 0.8.
    """

    def __init__(self, max_rotate: float = 8., scale: Tuple[float, float] = (
            0.9, 1.1), max_shift: float = 0.05, prob: float = 0.8) -> None:
        self.max_rotate = max_rotate
        self.scale = tuple(scale)
        self.max_shift = max_shift
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img']
        h, w = img.shape[:2]
        ang = np.random.uniform(-self.max_rotate, self.max_rotate)
        s = np.random.uniform(*self.scale)
        mat = cv2.getRotationMatrix2D((w / 2, h / 2), ang, s)
        mat[:, 2] += np.random.uniform(-self.max_shift, self.max_shift,
                                       2) * (w, h)
        results['img'] = cv2.warpAffine(img, mat, (w, h),
                                        flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REFLECT_101)
        if results.get('gt_mask') is not None:
            # the same border rule as the image: pixels reflected in from
            # a blended area are blended pixels, so the mask stays the
            # exact map of what changed
            results['gt_mask'] = cv2.warpAffine(
                results['gt_mask'], mat, (w, h), flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT_101)
        if results.get('landmarks') is not None:
            lm = results['landmarks']
            results['landmarks'] = (lm @ mat[:, :2].T + mat[:, 2]).astype(
                np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_rotate={self.max_rotate}, '
                f'scale={self.scale}, max_shift={self.max_shift}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class PhotometricJitter(BaseTransform):
    """Random brightness, contrast and saturation of the image only.

    **Required Keys:** ``img`` (BGR uint8)

    **Modified Keys:** ``img``

    Args:
        brightness (float): Max relative change. Defaults to 0.2.
        contrast (float): Defaults to 0.2.
        saturation (float): Defaults to 0.2.
        prob (float): Defaults to 0.8.
    """

    def __init__(self, brightness: float = 0.2, contrast: float = 0.2,
                 saturation: float = 0.2, prob: float = 0.8) -> None:
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img'].astype(np.float32)
        img *= 1 + np.random.uniform(-self.brightness, self.brightness)
        mean = img.mean()
        img = (img - mean) * (1 + np.random.uniform(
            -self.contrast, self.contrast)) + mean
        grey = img @ np.array([0.114, 0.587, 0.299], np.float32)
        f = 1 + np.random.uniform(-self.saturation, self.saturation)
        img = grey[..., None] + (img - grey[..., None]) * f
        results['img'] = np.clip(img + 0.5, 0, 255).astype(np.uint8)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class RandomJPEG(BaseTransform):
    """Re-encode the image as JPEG with a random quality.

    **Required Keys:** ``img``

    **Modified Keys:** ``img``

    Args:
        quality (Sequence[int]): Inclusive range. Defaults to (60, 100).
        prob (float): Defaults to 0.3.
    """

    def __init__(self, quality: Sequence[int] = (60, 100),
                 prob: float = 0.3) -> None:
        self.quality = tuple(quality)
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        q = int(np.random.randint(self.quality[0], self.quality[1] + 1))
        ok, buf = cv2.imencode('.jpg', results['img'],
                               [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            results['img'] = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(quality={self.quality}, '
                f'prob={self.prob})')
