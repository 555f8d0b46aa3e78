# Copyright (c) mmfocus contributors.
"""Transforms of face clips: ``imgs`` (T, H, W, 3) uint8 BGR and
``gt_masks`` (T, H, W) float32, the same geometry for every frame."""
from typing import Sequence

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from mmfocus.registry import TRANSFORMS
from mmfocus.utils.io import imread_checked


@TRANSFORMS.register_module()
class LoadClip(BaseTransform):
    """Load the frames of ``clip_paths`` (clear error naming a bad file).

    **Added Keys:** ``imgs`` (T, H, W, 3), ``img_shape``, ``ori_shape``
    """

    def transform(self, results: dict) -> dict:
        frames = [imread_checked(p, cv2.IMREAD_COLOR)
                  for p in results['clip_paths']]
        shapes = {f.shape for f in frames}
        if len(shapes) != 1:
            raise ValueError(f'clip {results.get("video_id")}: frames of '
                             f'different sizes {sorted(shapes)}')
        results['imgs'] = np.stack(frames)
        results['img_shape'] = results['ori_shape'] = frames[0].shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadClipMasks(BaseTransform):
    """Load ``clip_mask_paths`` as float masks in [0, 1] (all zeros for a
    clip without masks: a real clip, or a fake one of a dataset without
    masks), resized to the frames when they differ.

    **Added Keys:** ``gt_masks`` (T, H, W) float32
    """

    def transform(self, results: dict) -> dict:
        t = len(results['clip_paths'])
        h, w = results['img_shape'][:2]
        paths = results.get('clip_mask_paths')
        if not paths or int(results.get('gt_label', 0)) == 0:
            results['gt_masks'] = np.zeros((t, h, w), np.float32)
            return results
        masks = []
        for p in paths:
            m = imread_checked(p, cv2.IMREAD_UNCHANGED)
            if m.ndim == 3:
                m = m[..., 0]
            m = m.astype(np.float32) / (65535. if m.dtype == np.uint16
                                        else 255.)
            if m.shape != (h, w):
                m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
            masks.append(m)
        results['gt_masks'] = np.stack(masks)
        return results


@TRANSFORMS.register_module()
class ResizeClip(BaseTransform):
    """Resize every frame (and mask) to ``scale`` x ``scale``."""

    def __init__(self, scale: int) -> None:
        self.scale = int(scale)

    def transform(self, results: dict) -> dict:
        s = (self.scale, self.scale)
        results['imgs'] = np.stack([
            cv2.resize(f, s, interpolation=cv2.INTER_AREA)
            for f in results['imgs']])
        if results.get('gt_masks') is not None:
            results['gt_masks'] = np.stack([
                cv2.resize(m, s, interpolation=cv2.INTER_LINEAR)
                for m in results['gt_masks']])
        results['img_shape'] = s
        return results


@TRANSFORMS.register_module()
class RandomClipFlip(BaseTransform):
    """Flip the whole clip (frames and masks) horizontally with ``prob``."""

    def __init__(self, prob: float = 0.5) -> None:
        self.prob = float(prob)

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.prob)
        if flip:
            results['imgs'] = results['imgs'][:, :, ::-1].copy()
            if results.get('gt_masks') is not None:
                results['gt_masks'] = results['gt_masks'][:, :, ::-1].copy()
        results['flip'] = flip
        return results


@TRANSFORMS.register_module()
class PackClipInputs(BaseTransform):
    """``inputs`` (T, 3, H, W) uint8; a DataSample with ``gt_label`` and
    ``gt_mask`` (T, H, W) when masks were loaded."""

    def __init__(self,
                 meta_keys: Sequence[str] = (
                     'img_path', 'video_id', 'clip_idx', 'frame_indices',
                     'method', 'img_shape', 'ori_shape', 'flip',
                     'sample_idx')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        imgs = np.ascontiguousarray(results['imgs'].transpose(0, 3, 1, 2))
        ds = DataSample()
        if 'gt_label' in results:
            ds.set_gt_label(int(results['gt_label']))
        if results.get('gt_masks') is not None:
            ds.set_field(torch.from_numpy(np.ascontiguousarray(
                results['gt_masks'], np.float32)), 'gt_mask',
                dtype=torch.Tensor)
        ds.set_metainfo({k: results[k] for k in self.meta_keys
                         if k in results})
        return dict(inputs=torch.from_numpy(imgs), data_samples=ds)
