# Copyright (c) mmfocus contributors.
"""CAR head: class logits and class-attentive region (CAR) maps from F'."""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmfocus.registry import MODELS

MAP_NORMS = ('minmax', 'posterior', 'gated')
POOLS = ('max', 'lse', 'topk')


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
    logit ``z_c`` is the mean over j of the max over p, so with max pooling
    ``mean_j F'[c, j](p) <= z_c``). Posterior maps keep one scale for every image:
    a real face's fake map stays low instead of being stretched to [0, 1].

    Opt-in options of the weakly supervised (multiple-instance) kind,
    not in the paper (issue 10's lever against maps whose evidence sits
    off the blend; configs/focus/README.md, "Pooling and the
    real-everywhere loss"):

    - ``pool`` replaces the spatial max of Eq. 2 by a smoother one, so that
      more locations than each channel's arg-max get a gradient (all of
      them with ``'lse'``, the top k with ``'topk'``):
      ``'lse'`` is ``(1/r) log mean_p exp(r F'(p))`` (between the mean,
      r -> 0, and the max, r -> inf); ``'topk'`` the mean of the
      ``ceil(pool_topk * h * w)`` largest values.
    - ``pool_center`` subtracts each channel's spatial mean before pooling:
      the logit then measures how far the strongest locations stand out
      from the rest of the same face (a forgery as a local anomaly), not
      their level, which content and position also move.
    - ``real_loc_weight`` adds what a real/fake label already says about
      every location: a real face is real everywhere. For each real face,
      the cross-entropy of the per-location logits ``mean_j F'[c, j](p)``
      (the ones the posterior map reads) against "real", averaged over
      locations, times the weight. Fake faces get no such term (which
      of their locations are fake is what the map must find).
    - ``fake_loc_weight`` adds the other half of that multiple-instance
      reading: a fake face is fake *somewhere*. For each fake face, the
      cross-entropy against "fake" of the per-location logits at its
      ``ceil(pool_topk * h * w)`` locations of largest fake-minus-real
      margin, times the weight. It pins the level of the posterior map
      on fakes, which ``pool_center`` leaves free. On the demo data it
      hurts the within-face ranking (configs/focus/README.md, "One RGB
      branch with the pooling lever"), so every config leaves it off.

    Args:
        num_classes (int): Defaults to 2.
        k (int): Channels per class. Defaults to 32.
        pool (str): Spatial pooling of Eq. 2: ``'max'`` (the paper),
            ``'lse'`` or ``'topk'``. Defaults to ``'max'``.
        pool_r (float): Sharpness r of ``'lse'``. Defaults to 5.
        pool_topk (float): Fraction of locations ``'topk'`` averages, in
            (0, 1]. Defaults to 0.1.
        pool_center (bool): Pool ``F' - mean_p F'`` instead of ``F'``.
            Defaults to False.
        real_loc_weight (float): Weight of the real-everywhere location
            loss; 0 turns it off. Defaults to 0.
        fake_loc_weight (float): Weight of the fake-somewhere location
            loss (logged as ``loss_fake_loc``); 0 turns it off.
            Defaults to 0.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self, num_classes: int = 2, k: int = 32,
                 pool: str = 'max', pool_r: float = 5.0,
                 pool_topk: float = 0.1, pool_center: bool = False,
                 real_loc_weight: float = 0.0,
                 fake_loc_weight: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if pool not in POOLS:
            raise ValueError(f'CARHead pool must be one of {POOLS}, got '
                             f'{pool!r}')
        if not pool_r > 0:
            raise ValueError(f'CARHead pool_r must be > 0, got {pool_r}')
        if not 0 < pool_topk <= 1:
            raise ValueError(f'CARHead pool_topk must be in (0, 1], got '
                             f'{pool_topk}')
        for name, v in (('real_loc_weight', real_loc_weight),
                        ('fake_loc_weight', fake_loc_weight)):
            if not v >= 0:
                raise ValueError(f'CARHead {name} must be >= 0, got {v}')
        self.num_classes = num_classes
        self.k = k
        self.pool = pool
        self.pool_r = float(pool_r)
        self.pool_topk = float(pool_topk)
        self.pool_center = bool(pool_center)
        self.real_loc_weight = float(real_loc_weight)
        self.fake_loc_weight = float(fake_loc_weight)

    def _split(self, feat: torch.Tensor) -> torch.Tensor:
        B, C, h, w = feat.shape
        if C != self.num_classes * self.k:
            raise ValueError(f'CARHead expects {self.num_classes}x{self.k} '
                             f'channels, got {C}')
        return feat.view(B, self.num_classes, self.k, h, w)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """Class logits (B, num_classes) from F' (B, num_classes*k, h, w):
        the mean over each class's k channels of :meth:`pool_channels`."""
        return self.pool_channels(feat).mean(dim=-1)

    def pool_channels(self, feat: torch.Tensor) -> torch.Tensor:
        """Each channel of F' pooled over space by ``pool`` (after
        centring with ``pool_center``), (B, num_classes, k)."""
        f = self._split(feat).flatten(-2)  # (B, C, k, h*w)
        if self.pool_center:
            f = f - f.mean(dim=-1, keepdim=True)
        if self.pool == 'max':
            pooled = f.amax(dim=-1)
        elif self.pool == 'lse':
            r = self.pool_r
            x = f.to(torch.promote_types(f.dtype, torch.float32))
            pooled = (torch.logsumexp(r * x, dim=-1)
                      - math.log(f.shape[-1])) / r
            pooled = pooled.to(f.dtype)
        else:
            pooled = f.topk(self._topk_n(f.shape[-1]), dim=-1)[0].mean(-1)
        return pooled

    def _topk_n(self, locations: int) -> int:
        return max(1, math.ceil(self.pool_topk * locations))

    def location_logits(self, feat: torch.Tensor) -> torch.Tensor:
        """Per-location class logits ``mean_j F'[c, j](p)``,
        (B, num_classes, h, w); their softmax is the posterior map."""
        return self._split(feat).mean(dim=2)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor,
             feat: Optional[torch.Tensor] = None) -> dict:
        """Localization loss ``loss_loc``: cross-entropy of softmax(z)
        against labels; with ``feat`` given, also ``loss_real_loc``
        (``real_loc_weight > 0``) and ``loss_fake_loc``
        (``fake_loc_weight > 0``), see the class docstring."""
        losses = dict(loss_loc=F.cross_entropy(logits.float(), labels))
        if feat is None:
            return losses
        for cls, name, weight in ((0, 'loss_real_loc', self.real_loc_weight),
                                  (1, 'loss_fake_loc', self.fake_loc_weight)):
            if weight > 0:
                losses[name] = weight * self._location_ce(
                    feat[labels == cls], cls)
        return losses

    def _location_ce(self, feat: torch.Tensor, cls: int) -> torch.Tensor:
        """Cross-entropy against ``cls`` of the per-location logits of
        faces of that class: at every location for real (0), at the top-k
        fake-minus-real margins for fake (1); 0 with the graph kept (DDP)
        for a batch without such faces."""
        z = self.location_logits(feat)  # (N, C, h, w)
        z = z.to(torch.promote_types(z.dtype, torch.float32)).flatten(2)
        if not z.shape[0]:
            return z.sum() * 0.
        if cls == 1:
            margin = z[:, 1] - z[:, 0]  # (N, h*w)
            idx = margin.topk(self._topk_n(z.shape[-1]), dim=-1)[1]
            z = z.gather(2, idx[:, None].expand(-1, z.shape[1], -1))
        target = torch.full((z.shape[0], z.shape[2]), cls, dtype=torch.long,
                            device=z.device)
        return F.cross_entropy(z, target)

    def car_maps(self, feat: torch.Tensor, norm: str = 'minmax',
                 scores: Optional[torch.Tensor] = None) -> torch.Tensor:
        """CAR maps of every class, (B, num_classes, h, w), in [0, 1].

        Args:
            feat (Tensor): F' of shape (B, num_classes * k, h, w).
            norm (str): ``'minmax'`` (Eq. 4, per image), ``'posterior'``
                (per-location softmax over the classes; the maps of one
                location sum to 1) or ``'gated'``: the posterior map of
                class c min-max normalised per image and multiplied by the
                image's probability of c, ``scores[:, c]`` (where the
                evidence for c lies, scaled by how sure the image is of c:
                a confident fake's strongest location reaches its
                probability, a confident real's fake map stays near 0).
                Defaults to ``'minmax'``.
            scores (Tensor, optional): (B, num_classes) image-level class
                probabilities; needed by ``'gated'``.
        """
        if norm not in MAP_NORMS:
            raise ValueError(f'map norm must be one of {MAP_NORMS}, got '
                             f'{norm!r}')
        if norm == 'gated' and (scores is None or scores.shape != (
                feat.shape[0], self.num_classes)):
            raise ValueError(f"map norm 'gated' needs the image-level "
                             f'class probabilities, shape '
                             f'({feat.shape[0]}, {self.num_classes})')
        if norm != 'minmax':
            post = self.location_logits(feat.float()).softmax(dim=1)
            if norm == 'posterior':
                return post
            return minmax_normalize(post) * scores.float()[:, :, None, None]
        f = self._split(feat).float()
        weights = f.mean(dim=(-2, -1), keepdim=True)  # GAP per channel
        maps = F.relu((weights * f).sum(dim=2))
        return minmax_normalize(maps)
