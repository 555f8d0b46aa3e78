# Copyright (c) mmfocus contributors.
"""PCL (Zhao et al., ICCV 2021, "Learning Self-Consistency for Deepfake
Detection") with its consistency target taken from any map source
(FoCus Table III; method.md section 3)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from mmfocus.registry import MODELS
from ..utils.build import ModuleOrCfg, build_module
from .map_supervised import MapSupervisedClassifier, make_classifier


@MODELS.register_module()
class PCL(MapSupervisedClassifier):
    """ResNet + patch-consistency branch.

    The backbone (``mmpretrain.ResNet``, depth 34) returns two stages: the
    one at ``pcl_in_index`` feeds :class:`~mmfocus.models.heads.
    PatchConsistencyHead` (the consistency volume of its patches, 14 x 14
    for ResNet-34's third stage at 224 px), the one at ``cls_in_index`` is
    pooled into the linear real/fake classifier. Loss: ``CE + 10 x BCE``
    (volume vs. the target map's pairwise patch consistency). The I2G
    augmentation of PCL is omitted, as in FoCus's Table III.

    Args:
        backbone (dict | nn.Module): e.g. ``dict(type='mmpretrain.ResNet',
            depth=34, out_indices=(2, 3))``.
        consistency_head (dict | nn.Module, optional): ``None`` gives the
            plain ResNet classifier. Defaults to None.
        pcl_in_index (int): Backbone output for the branch. Defaults to 0.
        cls_in_index (int): Backbone output for the classifier.
            Defaults to -1.
        cls_in_channels (int): Defaults to 512 (ResNet-34).
        dropout (float): Before the classifier. Defaults to 0.0.
        **kwargs: :class:`MapSupervisedClassifier` arguments.
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 consistency_head: Optional[ModuleOrCfg] = None,
                 pcl_in_index: int = 0,
                 cls_in_index: int = -1,
                 cls_in_channels: int = 512,
                 dropout: float = 0.0,
                 **kwargs) -> None:
        super().__init__(backbone, **kwargs)
        self.consistency_head = build_module(consistency_head)
        self.pcl_in_index = pcl_in_index
        self.cls_in_index = cls_in_index
        self.dropout, self.fc = make_classifier(cls_in_channels,
                                                self.num_classes, dropout)

    @property
    def with_aux(self) -> bool:
        return self.consistency_head is not None

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The pooled classifier input ``(B, cls_in_channels)``."""
        return self.extract_feat(inputs)[self.cls_in_index].float().mean(
            (2, 3))

    def _heads(self, inputs: torch.Tensor):
        feats = self.extract_feat(inputs)
        logits = self.fc(self.dropout(feats[self.cls_in_index].float().mean(
            (2, 3))))
        aux = None
        if self.with_aux:
            mid = feats[self.pcl_in_index]
            aux = (self.consistency_head(mid), tuple(mid.shape[-2:]))
        return logits, aux

    def aux_loss(self, aux, maps: torch.Tensor,
                 labels: torch.Tensor) -> dict:
        logits, size = aux
        return dict(loss_pcl=self.consistency_head.loss(logits, maps, size))

    def aux_map(self, aux, size: Sequence[int]) -> torch.Tensor:
        """The inconsistency map ``1 - mean_j V_ij``, upsampled."""
        logits, feat_size = aux
        m = self.consistency_head.inconsistency_map(logits, feat_size)
        return F.interpolate(m, size=tuple(size), mode='bilinear',
                             align_corners=False).clamp(0, 1)
