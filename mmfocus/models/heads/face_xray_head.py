# Copyright (c) mmfocus contributors.
"""The face X-ray branch of Face X-ray (Li et al., CVPR 2020, "Face X-ray
for More General Face Forgery Detection")."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmfocus.registry import MODELS
from ..utils.map_targets import xray_targets


@MODELS.register_module()
class FaceXrayHead(BaseModule):
    """A 1x1 convolution predicting the face X-ray (the blending boundary
    ``B``) from the HRNetV2 representation, its upsampling and its loss.

    :meth:`forward` gives one-channel logits at the feature resolution
    (64 x 64 for 256 px); :meth:`xray` upsamples them bilinearly to a size
    and applies the sigmoid (the paper's order: 1x1 conv, bilinear
    upsampling to the input size, sigmoid). :meth:`loss` is
    ``loss_weight x BCE`` (mean over the pixels) against
    :func:`~mmfocus.models.utils.map_targets.xray_targets` of the target
    maps, at the targets' resolution.

    Args:
        in_channels (int): Channels of the representation (720 for
            HRNet-w48).
        loss_weight (float): Lambda of ``L = L_cls + lambda L_xray``.
            Defaults to 100.0 (the paper).
        blur_kernel (int): Gaussian size that softens the target masks
            (:func:`xray_targets`); 1 switches the blur off. Defaults to 3.
        blur_sigma (float): <= 0 takes OpenCV's default (0.8 for 3 taps).
            Defaults to 0.0.
        blur (str): ``'always'``, ``'binary'`` or ``'never'``
            (:func:`xray_targets`). Defaults to ``'always'``.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 loss_weight: float = 100.0,
                 blur_kernel: int = 3,
                 blur_sigma: float = 0.0,
                 blur: str = 'always',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if blur not in ('always', 'binary', 'never'):
            raise ValueError(f"blur must be 'always', 'binary' or 'never', "
                             f'got {blur!r}')
        self.in_channels = in_channels
        self.loss_weight = loss_weight
        self.blur_kernel = blur_kernel
        self.blur_sigma = blur_sigma
        self.blur = blur
        self.conv = nn.Conv2d(in_channels, 1, kernel_size=1)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """``(B, 1, h, w)`` X-ray logits at the feature resolution."""
        return self.conv(feat)

    @staticmethod
    def upsample(logits: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        """Logits resized bilinearly (``align_corners=False``) to ``size``."""
        size = tuple(size)
        if tuple(logits.shape[-2:]) == size:
            return logits
        return F.interpolate(logits, size=size, mode='bilinear',
                             align_corners=False)

    def xray(self, logits: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        """The predicted face X-ray ``(B, 1, *size)`` in [0, 1]."""
        return self.upsample(logits.float(), size).sigmoid()

    def targets(self, maps: torch.Tensor) -> torch.Tensor:
        """Face X-ray targets of the stacked maps (real faces: zeros)."""
        return xray_targets(maps, self.blur_kernel, self.blur_sigma,
                            self.blur)

    def loss(self, logits: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        """``loss_weight x`` the mean pixel BCE of the upsampled prediction
        against :meth:`targets` (both at ``maps``' resolution)."""
        target = self.targets(maps)
        pred = self.upsample(logits.float(), target.shape[-2:])
        return self.loss_weight * F.binary_cross_entropy_with_logits(
            pred, target)
