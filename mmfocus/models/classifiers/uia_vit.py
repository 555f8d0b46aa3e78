# Copyright (c) mmfocus contributors.
"""UIA-ViT (Zhuang et al., ECCV 2022, "UIA-ViT: Unsupervised
Inconsistency-Aware Method based on Vision Transformer for Face Forgery
Detection"): a ViT-B/16 whose self-attention learns patch consistency from
pseudo patch labels (no forgery masks), and whose class feature assembles
the patch tokens weighted by the consistency layers' attention."""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmfocus.registry import MODELS
from ..utils.build import ModuleOrCfg
from ..utils.gaussian import MultivariateGaussian
from .map_supervised import MapSupervisedClassifier, make_classifier

#: The authors' normalisation (the original ViT weights): mean = std = 0.5.
VIT_PREPROCESSOR = dict(type='ImgDataPreprocessor',
                        mean=(127.5, 127.5, 127.5),
                        std=(127.5, 127.5, 127.5),
                        bgr_to_rgb=True)
PSEUDO_LABELS = ('mge', 'attention')
MAP_TYPES = ('attention', 'consistency', 'mge')


def pcwa_weights(attn: torch.Tensor, step: float, progressive: bool = True,
                 start: float = 0.125, k: float = 12.,
                 thr: float = 0.7) -> torch.Tensor:
    """Progressive Consistency Weighted Assemble: per-patch weights.

    With ``a`` the patches' attention in (0, 1) and ``N`` patches:
    ``a / N`` without ``progressive``; else ``1 / N`` (mean pooling) while
    ``step < start`` and afterwards ``(w + (1 - w) a) / N`` with
    ``w = sigmoid(-k (step - thr))``, so the weighting moves from the mean
    towards the attention as training proceeds.

    Args:
        attn (Tensor): (B, N) in (0, 1).
        step (float): Training progress in [0, 1].
        progressive (bool): Defaults to True.
        start (float): Defaults to 0.125.
        k (float): Defaults to 12.
        thr (float): Defaults to 0.7.

    Returns:
        Tensor: (B, N) weights.
    """
    n = attn.shape[-1]
    if not progressive:
        return attn / n
    if step < start:
        return torch.full_like(attn, 1. / n)
    w = 1. / (1. + math.exp(k * (step - thr)))
    return (w + (1. - w) * attn) / n


def pcwa_assemble(cls_token: torch.Tensor, patch_tokens: torch.Tensor,
                  weights: torch.Tensor) -> torch.Tensor:
    """``[cls, sum_j weights_j * patch_j]``: (B, 2 D) from (B, D),
    (B, N, D) and (B, N)."""
    return torch.cat([cls_token, torch.einsum('bn,bnd->bd', weights,
                                              patch_tokens)], dim=-1)


def mge_pseudo_labels(d_real: torch.Tensor, d_fake: torch.Tensor,
                      labels: torch.Tensor) -> torch.Tensor:
    """Fake patches: those of fake images nearer (Mahalanobis) to the fake
    patch distribution than to the real one, ``d_real - d_fake > 0``;
    every patch of a real image is real.

    Args:
        d_real (Tensor): (B, N) distances to the real-patch Gaussian.
        d_fake (Tensor): (B, N) distances to the fake-patch Gaussian.
        labels (Tensor): (B, ) 0 real, 1 fake.

    Returns:
        Tensor: (B, N) bool, True = fake patch.
    """
    return (d_real - d_fake > 0) & (labels == 1).view(-1, 1)


def attention_pseudo_labels(attn: torch.Tensor, labels: torch.Tensor,
                            ratio: float = 0.25) -> torch.Tensor:
    """Fake patches from attention: the ``ceil(ratio * N)`` patches of
    each fake image with the highest attention (ties: the first); every
    patch of a real image is real.

    Args:
        attn (Tensor): (B, N) attention (any scale).
        labels (Tensor): (B, ) 0 real, 1 fake.
        ratio (float): In (0, 1]. Defaults to 0.25.

    Returns:
        Tensor: (B, N) bool, True = fake patch.
    """
    if not 0. < ratio <= 1.:
        raise ValueError(f'ratio must lie in (0, 1], got {ratio}')
    n = attn.shape[-1]
    top = attn.topk(max(1, math.ceil(ratio * n - 1e-9)), dim=-1).indices
    mask = torch.zeros_like(attn, dtype=torch.bool).scatter_(-1, top, True)
    return mask & (labels == 1).view(-1, 1)


def uia_consistency_targets(fake_mask: torch.Tensor, c_in: torch.Tensor,
                            c_out: torch.Tensor,
                            c_cross: torch.Tensor) -> torch.Tensor:
    """Target consistency of every patch pair (differentiable in the
    ``c``): ``c_in`` for two fake patches, ``c_out`` for two real ones,
    ``c_cross`` for a fake and a real one.

    Args:
        fake_mask (Tensor): (B, N) bool.
        c_in, c_out, c_cross (Tensor): Scalars.

    Returns:
        Tensor: (B, N, N).
    """
    f = fake_mask.float()
    ff = f.unsqueeze(2) * f.unsqueeze(1)
    rr = (1 - f).unsqueeze(2) * (1 - f).unsqueeze(1)
    return c_in * ff + c_out * rr + c_cross * (1 - ff - rr)


def uia_consistency_loss(consistency: torch.Tensor, targets: torch.Tensor,
                         labels: torch.Tensor) -> torch.Tensor:
    """L1 between predicted and target pair consistency, mean over the
    off-diagonal pairs of the real images plus that of the fake images
    (a group without images adds 0).

    Args:
        consistency (Tensor): (B, N, N) in (0, 1).
        targets (Tensor): (B, N, N).
        labels (Tensor): (B, ) 0 real, 1 fake.

    Returns:
        Tensor: Scalar.
    """
    n = consistency.shape[-1]
    off = 1 - torch.eye(n, device=consistency.device, dtype=torch.float32)
    err = (consistency.float() - targets.float()).abs() * off
    per_image = err.sum((1, 2)) / max(n * n - n, 1)
    loss = per_image.new_zeros(())
    for cls in (0, 1):
        sel = labels == cls
        if bool(sel.any()):
            loss = loss + per_image[sel].mean()
    return loss


def central_slices(grid: Tuple[int, int],
                   region: Tuple[float, float]) -> Tuple[slice, slice]:
    """Rows and columns ``round(g * region[0]) : round(g * region[1])`` of
    a ``grid`` (at least one of each)."""
    out = []
    for g in grid:
        a = int(round(g * region[0]))
        b = max(int(round(g * region[1])), a + 1)
        out.append(slice(min(a, g - 1), min(b, g)))
    return out[0], out[1]


@MODELS.register_module()
class UIAViT(MapSupervisedClassifier):
    """ViT with Unsupervised Patch Consistency Learning (UPCL) and
    Progressive Consistency Weighted Assemble (PCWA).

    Data flow (the backbone is a :class:`~mmfocus.models.backbones.
    FoCusViT`, ViT-B/16 at 224 px in the paper):

    1. **Attention of the consistency layers**: the pre-softmax attention
       logits of blocks ``attn_indices``, averaged over heads and blocks,
       through a sigmoid: the class-token row gives the patch attention
       ``a`` (B, N); the patch rows give the pair consistency ``C``
       (B, N, N).
    2. **PCWA** (:func:`pcwa_weights`, :func:`pcwa_assemble`): the class
       feature is ``[cls, sum_j w_j patch_j]`` from the final tokens, with
       mean pooling for the first ``pcwa_start`` of training and then the
       attention mixed in progressively; a linear layer on it gives the
       logits (CE).
    3. **MGE** (:class:`~mmfocus.models.utils.gaussian.
       MultivariateGaussian`): the layer-normed patch tokens after block
       ``feat_index`` update, with no gradient, a moving Gaussian of real
       patches (all patches of real images) and one of fake patches (the
       central ``fake_region`` of fake images, where the forgery
       most likely is); the covariance inverse is regularised and float32.
    4. **UPCL**: from ``consistency_start`` of training on, the fake
       images' patches nearer (Mahalanobis) to the fake Gaussian than to
       the real one are pseudo-labelled fake (:func:`mge_pseudo_labels`;
       real images: all real) and ``C`` is pulled (L1, off-diagonal) to
       ``c_in`` / ``c_out`` / ``c_cross`` for fake-fake / real-real /
       mixed pairs (:func:`uia_consistency_loss`). The three ``c`` are
       learned, pushed apart by ``c_reg[0] / |c_in| + c_reg[1] / |c_out|
       + c_reg[2] |c_cross|``. Loss: ``CE + loss_weight * L_cons + reg``.

    ``pred_map`` (:meth:`aux_map`, ``map_type``): ``'attention'`` (the
    default) is ``a``, the PCWA attention of the class token, which the
    authors call the localisation map; ``'consistency'`` is each patch's
    inconsistency ``1 - mean_{j != i} C_ij``; ``'mge'`` is
    ``sigmoid((d_real - d_fake) / sqrt(D))``, the MGE's pseudo-label
    score (0.5 everywhere before the Gaussians exist). Each is upsampled
    bilinearly to the input, in [0, 1].

    The training iteration is the buffer ``num_iters`` (one per
    :meth:`loss` call in training mode; saved in checkpoints), so the
    progressive schedules need no hook; ``step = num_iters / total_iters``
    (``eval_progress`` fixes it outside training).

    Interpretations (defaults from the authors' released code where it
    decides; all switchable): blocks 8-12 for the attention and the
    output of block 6 for MGE (0-based ``attn_indices=(7, ..., 11)``,
    ``feat_index=5``); pre-softmax logits through a sigmoid; PCWA
    ``k=12``, ``thr=0.7``, mean pooling for the first 1/8; fake region
    rows/cols 3..10 of 14; ``c`` initialised (0.6, 0.6, 0.2), ``c_reg``
    (0.05, 0.05, 0.5), ``loss_weight`` 0.06; consistency loss from 1/8 of
    training on (the authors: after the first of 8 epochs). Ours: a
    moving average (``mge_momentum``) with fixed shrinkage instead of
    Ledoit-Wolf refits every half epoch; all patches of the batch instead
    of 4 images per class; the diagonal left out of the loss; the MGE
    norm without affine parameters (the authors' is never trained);
    ``pseudo_labels='attention'`` (the top ``attn_fake_ratio`` of ``a``)
    as an alternative to MGE.

    Args:
        backbone (dict | nn.Module): A ``FoCusViT``.
        num_classes (int): Defaults to 2.
        feat_index (int): Block whose output feeds MGE. Defaults to 5.
        attn_indices (Sequence[int]): Consistency blocks.
            Defaults to (7, 8, 9, 10, 11).
        total_iters (int): Training iterations of the schedule.
            Defaults to 30000.
        progressive (bool): PCWA schedule. Defaults to True.
        pcwa_start (float): Defaults to 0.125.
        pcwa_k (float): Defaults to 12.0.
        pcwa_thr (float): Defaults to 0.7.
        eval_progress (float, optional): ``step`` outside training (the
            authors test at 1.0). Defaults to None (``num_iters /
            total_iters``).
        consistency_start (float): Fraction of training before UPCL.
            Defaults to 0.125.
        loss_weight (float): 0 disables UPCL. Defaults to 0.06.
        c_init (Sequence[float]): ``(c_in, c_out, c_cross)``.
            Defaults to (0.6, 0.6, 0.2).
        c_learnable (bool): Defaults to True.
        c_reg (Sequence[float]): Defaults to (0.05, 0.05, 0.5).
        pseudo_labels (str): ``'mge'`` or ``'attention'``.
            Defaults to 'mge'.
        fake_region (Sequence[float]): Defaults to (3 / 14, 11 / 14).
        attn_fake_ratio (float): Defaults to 0.25.
        mge_momentum (float, optional): Defaults to 0.01.
        mge_shrinkage (float): Defaults to 0.1.
        mge_eps (float): Defaults to 1e-5.
        mge_inv_interval (int): Defaults to 1.
        map_type (str): Defaults to 'attention'.
        dropout (float): Before the classifier. Defaults to 0.0.
        data_preprocessor (dict, optional): Defaults to mean = std = 127.5,
            BGR -> RGB (:data:`VIT_PREPROCESSOR`).
        init_cfg (dict, optional): Defaults to None.
    """

    uses_map_targets = False

    def __init__(self,
                 backbone: ModuleOrCfg,
                 num_classes: int = 2,
                 feat_index: int = 5,
                 attn_indices: Sequence[int] = (7, 8, 9, 10, 11),
                 total_iters: int = 30000,
                 progressive: bool = True,
                 pcwa_start: float = 0.125,
                 pcwa_k: float = 12.0,
                 pcwa_thr: float = 0.7,
                 eval_progress: Optional[float] = None,
                 consistency_start: float = 0.125,
                 loss_weight: float = 0.06,
                 c_init: Sequence[float] = (0.6, 0.6, 0.2),
                 c_learnable: bool = True,
                 c_reg: Sequence[float] = (0.05, 0.05, 0.5),
                 pseudo_labels: str = 'mge',
                 fake_region: Sequence[float] = (3 / 14, 11 / 14),
                 attn_fake_ratio: float = 0.25,
                 mge_momentum: Optional[float] = 0.01,
                 mge_shrinkage: float = 0.1,
                 mge_eps: float = 1e-5,
                 mge_inv_interval: int = 1,
                 map_type: str = 'attention',
                 dropout: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone, num_classes=num_classes,
            data_preprocessor=data_preprocessor or dict(VIT_PREPROCESSOR),
            init_cfg=init_cfg)
        bb = self.backbone
        if not hasattr(bb, 'forward_with_intermediates'):
            raise TypeError(f'UIAViT needs a FoCusViT backbone, got '
                            f'{type(bb).__name__}')
        if pseudo_labels not in PSEUDO_LABELS:
            raise ValueError(f'pseudo_labels must be one of {PSEUDO_LABELS}'
                             f', got {pseudo_labels!r}')
        if map_type not in MAP_TYPES:
            raise ValueError(f'map_type must be one of {MAP_TYPES}, got '
                             f'{map_type!r}')
        if total_iters < 1:
            raise ValueError(f'total_iters must be >= 1, got {total_iters}')
        if len(c_init) != 3 or len(c_reg) != 3:
            raise ValueError('c_init and c_reg take (c_in, c_out, c_cross)')
        self.feat_index = bb._block_index(feat_index)
        self.attn_indices = tuple(bb._block_index(i) for i in attn_indices)
        if not self.attn_indices:
            raise ValueError('attn_indices must name at least one block')
        self.embed_dim = D = bb.embed_dim
        self.grid_size = tuple(bb.grid_size)
        self.total_iters = int(total_iters)
        self.progressive = progressive
        self.pcwa_start, self.pcwa_k, self.pcwa_thr = pcwa_start, pcwa_k, \
            pcwa_thr
        self.eval_progress = eval_progress
        self.consistency_start = consistency_start
        self.loss_weight = float(loss_weight)
        c = torch.tensor([float(v) for v in c_init])
        if c_learnable:
            self.c = nn.Parameter(c)
        else:
            self.register_buffer('c', c)
        self.c_reg = tuple(float(v) for v in c_reg)
        self.pseudo_labels = pseudo_labels
        self.fake_region = tuple(float(v) for v in fake_region)
        self.attn_fake_ratio = attn_fake_ratio
        self.map_type = map_type
        mge = dict(momentum=mge_momentum, shrinkage=mge_shrinkage,
                   eps=mge_eps, inv_interval=mge_inv_interval)
        self.mge_real = MultivariateGaussian(D, **mge)
        self.mge_fake = MultivariateGaussian(D, **mge)
        self.register_buffer('num_iters', torch.zeros((), dtype=torch.long))
        self.dropout, self.fc = make_classifier(2 * D, num_classes, dropout)

    @property
    def with_aux(self) -> bool:
        return True

    @property
    def step(self) -> float:
        """Training progress ``num_iters / total_iters`` (``eval_progress``
        outside training when given)."""
        if not self.training and self.eval_progress is not None:
            return float(self.eval_progress)
        return float(self.num_iters) / self.total_iters

    @property
    def consistency_active(self) -> bool:
        """Whether UPCL adds its loss at the current iteration."""
        if self.loss_weight <= 0 or self.step < self.consistency_start:
            return False
        return self.pseudo_labels == 'attention' or (
            self.mge_real.ready and self.mge_fake.ready)

    def _forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, dict]:
        out = self.backbone.forward_with_intermediates(
            inputs, (self.feat_index, ), self.attn_indices)
        logits = torch.stack([a.float() for a in out['attn_logits']]).mean(0)
        attn = torch.sigmoid(logits[:, 0, 1:])
        weights = pcwa_weights(attn, self.step, self.progressive,
                               self.pcwa_start, self.pcwa_k, self.pcwa_thr)
        feat = pcwa_assemble(out['cls_token'].float(),
                             out['patch_tokens'].float(), weights)
        aux = dict(attn=attn, consistency=torch.sigmoid(logits[:, 1:, 1:]),
                   tokens=out['tokens'][0][:, 1:])
        return feat, aux

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The PCWA class feature ``[cls, weighted patches]`` (B, 2 D)."""
        return self._forward(inputs)[0]

    def _heads(self, inputs: torch.Tensor):
        feat, aux = self._forward(inputs)
        return self.fc(self.dropout(feat)), aux

    def mge_features(self, tokens: torch.Tensor) -> torch.Tensor:
        """Layer-normed (no affine) float32 patch tokens (B, N, D), no
        gradient: what MGE models."""
        with torch.no_grad(), torch.autocast(device_type=tokens.device.type,
                                             enabled=False):
            return F.layer_norm(tokens.detach().float(), (self.embed_dim, ),
                                eps=1e-6)

    def mge_distances(self, feats: torch.Tensor
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mahalanobis distances (B, N) to the real and fake Gaussians."""
        with torch.no_grad():
            return self.mge_real.distance(feats), \
                self.mge_fake.distance(feats)

    @torch.no_grad()
    def update_mge(self, feats: torch.Tensor, labels: torch.Tensor) -> None:
        """Merge the real images' patches into the real Gaussian and the
        fake images' central patches into the fake one (every call, with
        empty batches too, so that distributed ranks stay in step)."""
        B, N, D = feats.shape
        h, w = self.grid_size
        real = feats[labels == 0].reshape(-1, D)
        rows, cols = central_slices((h, w), self.fake_region)
        fake = feats[labels == 1].reshape(-1, h, w, D)[:, rows, cols]
        self.mge_real.update(real)
        self.mge_fake.update(fake.reshape(-1, D))

    def fake_patches(self, aux: dict, feats: torch.Tensor,
                     labels: torch.Tensor) -> torch.Tensor:
        """Pseudo patch labels (B, N) bool (``pseudo_labels``)."""
        if self.pseudo_labels == 'attention':
            return attention_pseudo_labels(aux['attn'].detach(), labels,
                                           self.attn_fake_ratio)
        d_real, d_fake = self.mge_distances(feats)
        return mge_pseudo_labels(d_real, d_fake, labels)

    def c_regulariser(self) -> torch.Tensor:
        """``c_reg[0] / |c_in| + c_reg[1] / |c_out| + c_reg[2] |c_cross|``."""
        c_in, c_out, c_cross = self.c.float().abs().unbind()
        r_in, r_out, r_cross = self.c_reg
        return r_in / c_in.clamp_min(1e-6) + r_out / c_out.clamp_min(1e-6) \
            + r_cross * c_cross

    def aux_loss(self, aux: dict, maps: Optional[torch.Tensor],
                 labels: torch.Tensor) -> dict:
        """``loss_consistency`` (weighted), ``loss_c_reg`` and the share of
        fake images' patches labelled fake; zeros (on the graph) before
        UPCL starts. Updates the Gaussians in training."""
        cons = aux['consistency']
        feats = self.mge_features(aux['tokens'])
        if self.consistency_active:
            mask = self.fake_patches(aux, feats, labels)
            targets = uia_consistency_targets(mask, *self.c.float().unbind())
            losses = dict(
                loss_consistency=self.loss_weight *
                uia_consistency_loss(cons, targets, labels),
                loss_c_reg=self.c_regulariser())
            fakes = labels == 1
            ratio = mask[fakes].float().mean() if bool(fakes.any()) else \
                cons.new_zeros(())
        else:
            zero = cons.sum() * 0 + self.c.sum() * 0
            losses = dict(loss_consistency=zero, loss_c_reg=zero.clone())
            ratio = cons.new_zeros(())
        losses['fake_patch_ratio'] = ratio.detach()
        if self.training:
            self.update_mge(feats, labels)
        return losses

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """CE, UPCL's losses, ``acc``; counts the iteration in training."""
        losses = super().loss(inputs, data_samples)
        if self.training:
            self.num_iters += 1
        return losses

    def aux_map(self, aux: dict, size: Sequence[int]) -> torch.Tensor:
        """The ``map_type`` patch map, upsampled bilinearly to ``size``, in
        [0, 1] (see the class docstring)."""
        if self.map_type == 'attention':
            m = aux['attn']
        elif self.map_type == 'consistency':
            c = aux['consistency']
            n = c.shape[-1]
            off = c.sum(-1) - torch.diagonal(c, dim1=-2, dim2=-1)
            m = 1 - off / max(n - 1, 1)
        else:
            d_real, d_fake = self.mge_distances(
                self.mge_features(aux['tokens']))
            m = torch.sigmoid((d_real - d_fake) / math.sqrt(self.embed_dim))
        h, w = self.grid_size
        m = m.detach().float().reshape(-1, 1, h, w)
        return F.interpolate(m, size=tuple(size), mode='bilinear',
                             align_corners=False).clamp(0, 1)
