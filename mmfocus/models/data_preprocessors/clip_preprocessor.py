# Copyright (c) mmfocus contributors.
"""Normalisation of face clips ``(B, T, 3, H, W)``."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmfocus.registry import MODELS
from .focus_preprocessor import stack_batch


@MODELS.register_module()
class ClipDataPreprocessor(BaseDataPreprocessor):
    """Stack a batch of clips, BGR -> RGB and normalise every frame.

    Inputs: a list of ``(T, 3, H, W)`` uint8 tensors (``PackClipInputs``) or
    one ``(B, T, 3, H, W)`` tensor. Output ``inputs``: ``(B, T, 3, H, W)``
    float.

    Args:
        mean, std (Sequence[float]): Per channel (RGB). Defaults to
            ImageNet's.
        bgr_to_rgb (bool): Defaults to True.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 bgr_to_rgb: bool = True,
                 non_blocking: Optional[bool] = True) -> None:
        super().__init__(non_blocking=non_blocking)
        self.bgr_to_rgb = bgr_to_rgb
        self.register_buffer('mean', torch.tensor(mean).view(1, 1, 3, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std).view(1, 1, 3, 1, 1),
                             False)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = stack_batch(
                inputs, 'clips',
                'add a ResizeClip to the pipeline and use one clip_len')
        x = inputs.float()
        if x.dim() != 5 or x.shape[2] != 3:
            raise ValueError('expected (B, T, 3, H, W) clips, got '
                             f'{tuple(x.shape)}')
        if self.bgr_to_rgb:
            x = x.flip(2)
        return dict(inputs=(x - self.mean) / self.std,
                    data_samples=data.get('data_samples'))
