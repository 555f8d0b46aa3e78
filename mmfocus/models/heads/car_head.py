# Copyright (c) mmfocus contributors.
"""CAR head: class logits and class-attentive region (CAR) maps from F'."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmfocus.registry import MODELS

MAP_NORMS = ('minmax', 'posterior')


def minmax_normalize(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Min-max normalise each map of (..., h, w) to [0, 1]."""
    flat = x.flatten(-2)
    lo = flat.min(dim=-1, keepdim=True)[0]
    hi = flat.max(dim=-1, keepdim=True)[0]
    return ((flat - lo) / (hi - lo).clamp_min(eps)).view_as(x)


@MODELS.register_module()
class CARHead(BaseModule):
    """Classification by class-wise spatial max pooling, and CAR maps.

    Logit of class c (Eq. 2-3): ``z_c = mean_j max_{h,w} F'[c, j]``.
    CAR map (Eq. 4, interpretation in docs/en/method.md):
    ``A_c = minmax(ReLU(sum_j GAP(F'[c, j]) * F'[c, j]))`` (``'minmax'``),
    or the per-location class posterior
    ``P_c(p) = softmax_c(mean_j F'[c, j](p))`` (``'posterior'``): the
    probability the head gives class c when it sees location p alone (the
    logit ``z_c`` is the mean over j of the max over p, so ``mean_j
    F'[c, j](p) <= z_c``). Posterior maps keep one scale for every image:
    a real face's fake map stays low instead of being stretched to [0, 1].

    Args:
        num_classes (int): Defaults to 2.
        k (int): Channels per class. Defaults to 32.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self, num_classes: int = 2, k: int = 32,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.k = k

    def _split(self, feat: torch.Tensor) -> torch.Tensor:
        B, C, h, w = feat.shape
        if C != self.num_classes * self.k:
            raise ValueError(f'CARHead expects {self.num_classes}x{self.k} '
                             f'channels, got {C}')
        return feat.view(B, self.num_classes, self.k, h, w)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """Class logits (B, num_classes) from F' (B, num_classes*k, h, w)."""
        f = self._split(feat)
        return f.flatten(-2).amax(dim=-1).mean(dim=-1)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Localization loss: cross-entropy of softmax(z) against labels."""
        return F.cross_entropy(logits.float(), labels)

    def car_maps(self, feat: torch.Tensor, norm: str = 'minmax'
                 ) -> torch.Tensor:
        """CAR maps of every class, (B, num_classes, h, w), in [0, 1].

        Args:
            feat (Tensor): F' of shape (B, num_classes * k, h, w).
            norm (str): ``'minmax'`` (Eq. 4, per image) or ``'posterior'``
                (per-location softmax over the classes; the maps of one
                location sum to 1). Defaults to ``'minmax'``.
        """
        if norm not in MAP_NORMS:
            raise ValueError(f'map norm must be one of {MAP_NORMS}, got '
                             f'{norm!r}')
        f = self._split(feat).float()
        if norm == 'posterior':
            return f.mean(dim=2).softmax(dim=1)
        weights = f.mean(dim=(-2, -1), keepdim=True)  # GAP per channel
        maps = F.relu((weights * f).sum(dim=2))
        return minmax_normalize(maps)
