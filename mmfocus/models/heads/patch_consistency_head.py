# Copyright (c) mmfocus contributors.
"""PCL's patch-consistency branch (Zhao et al., ICCV 2021, Sec. 3.2)."""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfocus.registry import MODELS
from ..utils.map_targets import consistency_targets


@MODELS.register_module()
class PatchConsistencyHead(nn.Module):
    """The consistency volume of one feature map and its loss.

    For a feature map ``X`` ``(B, C, h, w)`` with patches ``x_i`` (its
    ``N = h w`` positions), two 1x1 convolutions embed the patches and the
    volume holds their scaled dot products (an embedded-Gaussian non-local
    affinity; Eq. 2 of PCL):

    .. math:: V_{ij} = \\sigma\\big(\\theta(x_i)^\\top \\phi(x_j) /
              \\sqrt{C'}\\big),

    ``(B, N, N)``. The target is the pairwise consistency of the map's
    patches, :func:`~mmfocus.models.utils.map_targets.consistency_targets`
    of the target map average-pooled to ``h x w``; the loss is the mean
    binary cross-entropy over all pairs, times ``loss_weight`` (PCL: 10).

    Args:
        in_channels (int): Channels of the feature map.
        embed_channels (int, optional): ``C'``; defaults to ``in_channels``
            (PCL's released module keeps the width).
        loss_weight (float): Defaults to 10.0.
    """

    def __init__(self,
                 in_channels: int,
                 embed_channels: Optional[int] = None,
                 loss_weight: float = 10.0) -> None:
        super().__init__()
        embed_channels = embed_channels or in_channels
        self.theta = nn.Conv2d(in_channels, embed_channels, 1)
        self.phi = nn.Conv2d(in_channels, embed_channels, 1)
        self.scale = 1.0 / math.sqrt(embed_channels)
        self.loss_weight = float(loss_weight)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """Volume logits ``(B, N, N)`` (apply a sigmoid for ``V``)."""
        t = self.theta(feat).flatten(2)  # (B, C', N)
        p = self.phi(feat).flatten(2)
        return torch.einsum('bci,bcj->bij', t.float(), p.float()) * self.scale

    @staticmethod
    def targets(maps: torch.Tensor, size) -> torch.Tensor:
        """``(B, 1, H, W)`` maps -> ``(B, N, N)`` consistency targets at the
        feature size (area pooling: a patch's value is its forged
        fraction)."""
        pooled = F.adaptive_avg_pool2d(maps.float(), tuple(size))
        return consistency_targets(pooled)

    def loss(self, logits: torch.Tensor, maps: torch.Tensor,
             size) -> torch.Tensor:
        """``loss_weight`` x BCE(sigmoid(logits), targets)."""
        target = self.targets(maps, size)
        return self.loss_weight * F.binary_cross_entropy_with_logits(
            logits, target)

    @staticmethod
    def inconsistency_map(logits: torch.Tensor, size) -> torch.Tensor:
        """A patch's mean inconsistency with all patches,
        ``1 - mean_j V_ij``, as an ``(B, 1, h, w)`` map: high on a small
        forged region (inconsistent with most of the face), zero on a
        consistent (real) face."""
        v = logits.float().sigmoid()
        return (1 - v.mean(-1)).view(v.shape[0], 1, *size)
