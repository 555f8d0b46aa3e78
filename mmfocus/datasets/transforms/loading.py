# Copyright (c) mmfocus contributors.
"""Loading face crops and their manipulation masks."""
import warnings
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmfocus.registry import TRANSFORMS
from mmfocus.utils.io import imread_checked
from ..shards import read_shard_item


@TRANSFORMS.register_module()
class LoadFace(BaseTransform):
    """Load a face crop (BGR uint8) with a clear error for bad files.

    An entry of a packed annotation (:mod:`mmfocus.datasets.shards`) is
    read from its shard (``img_shard`` row ``img_shard_index``): the same
    bytes as decoding its PNG, without the decoding.

    **Required Keys:** ``img_path``, or ``img_shard`` and
    ``img_shard_index``

    **Added Keys:** ``img``, ``img_shape``, ``ori_shape``, ``landmarks``
    (float32 (K, 2) if the annotation has them)
    """

    def transform(self, results: dict) -> dict:
        if results.get('img_shard'):
            img = read_shard_item(results['img_shard'],
                                  results.get('img_shard_index'), 'faces')
        else:
            img = imread_checked(results['img_path'], cv2.IMREAD_COLOR)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        if results.get('landmarks') is not None:
            results['landmarks'] = np.asarray(results['landmarks'],
                                              dtype=np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


@TRANSFORMS.register_module()
class LoadManipulationMask(BaseTransform):
    """Load the ground-truth (or target) manipulation mask as float [0, 1].

    A sample without ``mask_path`` gets all zeros (a real face, or a fake
    whose dataset has no masks, when ``zeros_if_missing``). A mask of
    another size than its face is resized bilinearly to the face, with a
    warning naming the file. A ``mask_path`` whose file is missing or
    unreadable raises an error naming the file. An entry of a packed
    annotation is read from its mask shard (``mask_shard`` row
    ``mask_shard_index``; the PNG's own values and dtype, so the same
    ``gt_mask``).

    **Required Keys:** ``img_shape``, optional ``mask_path`` (or
    ``mask_shard`` and ``mask_shard_index``)

    **Added Keys:** ``gt_mask`` (float32 HxW), ``has_mask`` (bool)

    Args:
        zeros_if_missing (bool): Defaults to True.
    """

    def __init__(self, zeros_if_missing: bool = True) -> None:
        self.zeros_if_missing = zeros_if_missing

    def transform(self, results: dict) -> Optional[dict]:
        h, w = results['img_shape'][:2]
        path = results.get('mask_path')
        shard = results.get('mask_shard')
        if shard:
            mask = read_shard_item(shard, results.get('mask_shard_index'),
                                   'masks')
            path = path or f'{shard}[{results.get("mask_shard_index")}]'
        elif path:
            mask = imread_checked(path, cv2.IMREAD_UNCHANGED)
            if mask.ndim == 3:
                mask = mask[..., 0]
        if path:
            scale = 65535. if mask.dtype == np.uint16 else 255.
            mask = mask.astype(np.float32) / scale
            if mask.shape != (h, w):
                warnings.warn(
                    f'manipulation mask {path} is {mask.shape[1]}x'
                    f'{mask.shape[0]} but its face '
                    f'{results.get("img_path", "")} is {w}x{h}; resized '
                    'bilinearly')
                mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
            results['has_mask'] = True
        else:
            if not self.zeros_if_missing:
                raise KeyError(f'no mask_path for {results.get("img_path")}')
            mask = np.zeros((h, w), np.float32)
            results['has_mask'] = results.get('gt_label', 0) == 0
        results['gt_mask'] = mask
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'zeros_if_missing={self.zeros_if_missing})')
