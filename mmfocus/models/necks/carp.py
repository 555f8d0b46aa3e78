# Copyright (c) mmfocus contributors.
"""CARP: Classification Attentive Regions Proposal (FoCus, Sec. III-B)."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmfocus.registry import MODELS


@MODELS.register_module()
class CARPNeck(BaseModule):
    """Maps the patch-token grid F (B, D, h, w) to F' (B, num_classes*k, h, w).

    Channels ``[c*k, (c+1)*k)`` belong to class ``c`` (0 real, 1 fake).

    Args:
        in_channels (int): Token dimension D.
        num_classes (int): Defaults to 2.
        k (int): Channels per class. Defaults to 32 (the paper's choice).
        kernel_size (int): 1 (interpretation) or 3. Defaults to 1.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int = 2,
                 k: int = 32,
                 kernel_size: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel_size not in (1, 3):
            raise ValueError(f'CARPNeck kernel_size must be 1 or 3, '
                             f'got {kernel_size}')
        self.num_classes = num_classes
        self.k = k
        self.conv = nn.Conv2d(in_channels, num_classes * k, kernel_size,
                              padding=kernel_size // 2)

    def forward(self, tokens: torch.Tensor, grid_size) -> torch.Tensor:
        """Args:
            tokens (Tensor): (B, N, D) patch tokens, N = h * w.
            grid_size (tuple[int, int]): (h, w).

        Returns:
            Tensor: F' of shape (B, num_classes * k, h, w).
        """
        B, N, D = tokens.shape
        h, w = grid_size
        if N != h * w:
            raise ValueError(f'{N} tokens do not fill a {h}x{w} grid')
        feat = tokens.transpose(1, 2).reshape(B, D, h, w)
        return self.conv(feat)
