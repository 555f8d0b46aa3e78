# Copyright (c) mmfocus contributors.
"""Pack a face sample into model inputs and a DataSample."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from mmfocus.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackFaceInputs(BaseTransform):
    """Pack ``img`` as a (3, H, W) uint8 tensor and the rest in a DataSample.

    **Required Keys:** ``img``, ``gt_label``; optional ``gt_mask``

    **Added Keys:** ``inputs``, ``data_samples`` (with ``gt_label``,
    ``gt_mask`` (H, W) float tensor when present, and ``meta_keys``)

    Args:
        meta_keys (Sequence[str]): Copied into the metainfo when present.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = (
                     'img_path', 'ori_shape', 'img_shape', 'video_id',
                     'frame_idx', 'method', 'pair_path', 'mask_path',
                     'has_mask', 'flip', 'sample_idx')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        ds = DataSample()
        if 'gt_label' in results:
            ds.set_gt_label(int(results['gt_label']))
        if results.get('gt_mask') is not None:
            ds.set_field(torch.from_numpy(
                np.ascontiguousarray(results['gt_mask'], np.float32)),
                'gt_mask', dtype=torch.Tensor)
        ds.set_metainfo({k: results[k] for k in self.meta_keys
                         if k in results})
        return dict(inputs=inputs, data_samples=ds)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
