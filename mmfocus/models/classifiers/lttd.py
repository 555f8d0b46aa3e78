# Copyright (c) mmfocus contributors.
"""LTTD (Guan et al., NeurIPS 2022, "Delving into Sequential Patches for
Deepfake Detection") with its patch integrity labels taken from any map
source (FoCus Table III; method.md section 3)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import trunc_normal_
from timm.models.vision_transformer import Block

from mmfocus.registry import MODELS
from ..utils.build import ModuleOrCfg
from ..utils.map_targets import patch_labels
from .map_supervised import MapSupervisedClassifier, make_classifier


@MODELS.register_module()
class LTTD(MapSupervisedClassifier):
    """Local Sequence Transformer + cross-patch inconsistency + Cross-Patch
    Aggregator, for clips ``(B, T, 3, H, W)``.

    The backbone (:class:`~mmfocus.models.backbones.
    LocalSequenceTransformer`) gives one embedding ``z_i`` per spatial
    patch sequence. Two map-supervised terms use the clip's patch integrity
    labels ``y_i`` (:func:`~mmfocus.models.utils.map_targets.patch_labels`:
    the target maps averaged over the clip, area-pooled per patch,
    thresholded at ``patch_thr``; real clips all 0):

    * integrity: a linear head predicts ``y_i`` from ``z_i`` (BCE), the
      branch "predicting the integrity of patch sequences";
    * cross-patch inconsistency: the cosine similarities of the sequence
      embeddings, ``s cos(z_i, z_j)`` as logits, against
      ``1 - |y_i - y_j|`` (BCE): sequences of the same integrity agree,
      forged and pristine sequences disagree.

    The Cross-Patch Aggregator (a transformer over the ``N`` embeddings with
    a class token and a learned spatial position embedding) classifies the
    clip. Loss: ``CE + integrity_weight x BCE + inconsistency_weight x
    BCE``. ``pred_map``: the integrity probabilities on the patch grid,
    upsampled.

    Args:
        backbone (dict | nn.Module): The sequence encoder.
        num_patches (int): ``N`` of the input size (e.g. 196 at 224 px with
            16 px patches).
        aggregator_depth (int): Defaults to 4.
        num_heads (int): Defaults to 6.
        embed_dims (int): Defaults to 384 (the backbone's).
        patch_thr (float): Defaults to 0.25.
        integrity_weight (float): Defaults to 1.0.
        inconsistency_weight (float): Defaults to 1.0.
        inconsistency_scale (float): ``s``. Defaults to 10.0.
        map_losses (bool): False gives the plain video classifier (no
            map-supervised term). Defaults to True.
        dropout (float): Defaults to 0.0.
        **kwargs: :class:`MapSupervisedClassifier` arguments (the default
            ``data_preprocessor`` is :class:`ClipDataPreprocessor`).
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 num_patches: int,
                 aggregator_depth: int = 4,
                 num_heads: int = 6,
                 embed_dims: int = 384,
                 patch_thr: float = 0.25,
                 integrity_weight: float = 1.0,
                 inconsistency_weight: float = 1.0,
                 inconsistency_scale: float = 10.0,
                 map_losses: bool = True,
                 dropout: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(
            backbone,
            data_preprocessor=data_preprocessor or dict(
                type='ClipDataPreprocessor'),
            **kwargs)
        self.num_patches = num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, num_patches + 1, embed_dims))
        self.aggregator = nn.Sequential(*[
            Block(embed_dims, num_heads, 4.0, qkv_bias=True)
            for _ in range(aggregator_depth)])
        self.norm = nn.LayerNorm(embed_dims)
        self.integrity_head = nn.Linear(embed_dims, 1)
        self.dropout, self.fc = make_classifier(embed_dims, self.num_classes,
                                                dropout)
        self.patch_thr = patch_thr
        self.integrity_weight = float(integrity_weight)
        self.inconsistency_weight = float(inconsistency_weight)
        self.inconsistency_scale = float(inconsistency_scale)
        self.map_losses = bool(map_losses)
        trunc_normal_(self.cls_token, std=.02)
        trunc_normal_(self.pos_embed, std=.02)

    @property
    def with_aux(self) -> bool:
        return self.map_losses

    def _encode(self, inputs: torch.Tensor):
        z, grid = self.backbone(inputs)
        if z.shape[1] != self.num_patches:
            raise ValueError(f'{z.shape[1]} patch sequences, but the model '
                             f'was built for num_patches={self.num_patches}')
        x = torch.cat([self.cls_token.expand(z.shape[0], -1, -1), z], 1)
        x = self.norm(self.aggregator(x + self.pos_embed))
        return z, grid, x[:, 0]

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The aggregated clip feature ``(B, D)``."""
        return self._encode(inputs)[2]

    def _heads(self, inputs: torch.Tensor):
        z, grid, feat = self._encode(inputs)
        logits = self.fc(self.dropout(feat.float()))
        aux = None
        if self.with_aux:
            aux = (z, self.integrity_head(z).squeeze(-1).float(), grid)
        return logits, aux

    def patch_targets(self, maps: torch.Tensor, labels: torch.Tensor,
                      grid: Sequence[int]) -> torch.Tensor:
        """``(B, 1, h, w)`` clip-averaged maps -> ``(B, N)`` labels."""
        frac = F.adaptive_avg_pool2d(maps.float(), tuple(grid)).flatten(1)
        return patch_labels(frac, labels, self.patch_thr)

    def aux_loss(self, aux, maps: torch.Tensor,
                 labels: torch.Tensor) -> dict:
        z, integrity, grid = aux
        y = self.patch_targets(maps, labels, grid)
        zn = F.normalize(z.float(), dim=-1)
        sim = self.inconsistency_scale * zn @ zn.transpose(1, 2)
        same = 1 - (y[:, :, None] - y[:, None, :]).abs()
        return dict(
            loss_integrity=self.integrity_weight *
            F.binary_cross_entropy_with_logits(integrity, y),
            loss_inconsistency=self.inconsistency_weight *
            F.binary_cross_entropy_with_logits(sim, same))

    def aux_map(self, aux, size: Sequence[int]) -> torch.Tensor:
        _, integrity, grid = aux
        m = integrity.sigmoid().view(-1, 1, *grid)
        return F.interpolate(m, size=tuple(size), mode='bilinear',
                             align_corners=False).clamp(0, 1)
