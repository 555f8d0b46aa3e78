# Copyright (c) mmfocus contributors.
"""The HRNetV2 representation (Sun et al., 2019, "High-Resolution
Representations for Labeling Pixels and Regions"): every branch of an HRNet
upsampled to the highest resolution and concatenated."""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmfocus.registry import MODELS


@MODELS.register_module()
class HRNetV2Concat(BaseModule):
    """Upsample every HRNet branch to the first (highest-resolution) one and
    concatenate them along the channels.

    ``mmpretrain.HRNet`` returns its four branches at strides 4, 8, 16 and
    32 (``(B, C_k, H / 2^(k+2), W / 2^(k+2))``, e.g. 48, 96, 192, 384
    channels for w48). This neck gives ``(B, sum C_k, H / 4, W / 4)``
    (720 x 64 x 64 for w48 at 256 px), the representation Face X-ray's 1x1
    convolution reads. It has no parameters; the 1x1 mixing convolution of
    HRNetV2's segmentation head is left to the head that follows.

    Args:
        mode (str): Interpolation mode. Defaults to ``'bilinear'``.
        align_corners (bool): Defaults to False.
        in_channels (Sequence[int], optional): The branches' channels, only
            to set :attr:`out_channels`. Defaults to None.
        init_cfg (dict, optional): Defaults to None.

    Example:
        >>> neck = HRNetV2Concat()
        >>> feats = [torch.rand(1, 8 * 2**k, 16 // 2**k, 16 // 2**k)
        ...          for k in range(4)]
        >>> tuple(neck(feats).shape)
        (1, 120, 16, 16)
    """

    def __init__(self,
                 mode: str = 'bilinear',
                 align_corners: bool = False,
                 in_channels: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.mode = mode
        self.align_corners = align_corners
        self.out_channels = (sum(in_channels)
                             if in_channels is not None else None)

    def forward(
        self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> torch.Tensor:
        """``(B, sum C_k, H_0, W_0)`` from the branches (a single tensor
        passes through)."""
        if isinstance(feats, torch.Tensor):
            return feats
        size = tuple(feats[0].shape[-2:])
        kw = dict(mode=self.mode)
        if self.mode in ('linear', 'bilinear', 'bicubic', 'trilinear'):
            kw['align_corners'] = self.align_corners
        outs = [feats[0]] + [
            f if tuple(f.shape[-2:]) == size else F.interpolate(
                f, size=size, **kw) for f in feats[1:]
        ]
        return torch.cat(outs, dim=1)
