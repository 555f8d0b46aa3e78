# Copyright (c) mmfocus contributors.
"""CADDM (Dong et al., CVPR 2023, "Implicit Identity Leakage: The Stumbling
Block to Improving Deepfake Detection Generalization") with its artefact
boxes taken from any map source (FoCus Table III; method.md section 3)."""
from typing import Optional, Sequence

import torch

from mmfocus.registry import MODELS
from ..utils.build import ModuleOrCfg, build_module
from .map_supervised import MapSupervisedClassifier, make_classifier


@MODELS.register_module()
class CADDM(MapSupervisedClassifier):
    """Backbone + Artifact Detection Module.

    The backbone's last stage (ResNet-34: ``(B, 512, 7, 7)`` at 224 px)
    feeds :class:`~mmfocus.models.heads.ArtifactDetectionHead`; the
    classifier takes the pooled backbone feature plus the pooled end-level
    feature of the module (CADDM's ``global_feat + adm_final_feat``).
    Loss: ``CE + 0.1 x (SmoothL1(boxes) + CE(anchor confidences))``.

    Args:
        backbone (dict | nn.Module): e.g. ``dict(type='mmpretrain.ResNet',
            depth=34, out_indices=(3, ))``.
        adm_head (dict | nn.Module, optional): ``None`` gives the plain
            classifier. Defaults to None.
        cls_in_channels (int): Defaults to 512 (ResNet-34).
        dropout (float): Defaults to 0.0.
        **kwargs: :class:`MapSupervisedClassifier` arguments.
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 adm_head: Optional[ModuleOrCfg] = None,
                 cls_in_channels: int = 512,
                 dropout: float = 0.0,
                 **kwargs) -> None:
        super().__init__(backbone, **kwargs)
        self.adm_head = build_module(adm_head)
        self.dropout, self.fc = make_classifier(cls_in_channels,
                                                self.num_classes, dropout)

    @property
    def with_aux(self) -> bool:
        return self.adm_head is not None

    def _features(self, inputs: torch.Tensor):
        last = self.extract_feat(inputs)[-1]
        pooled = last.float().mean((2, 3))
        adm = None
        if self.with_aux:
            loc, conf, final, sizes = self.adm_head(last)
            pooled = pooled + final
            adm = (loc, conf, sizes)
        return pooled, adm

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The classifier input ``(B, cls_in_channels)``."""
        return self._features(inputs)[0]

    def _heads(self, inputs: torch.Tensor):
        pooled, adm = self._features(inputs)
        return self.fc(self.dropout(pooled)), adm

    def aux_loss(self, aux, maps: torch.Tensor,
                 labels: torch.Tensor) -> dict:
        loc, conf, sizes = aux
        return self.adm_head.loss(loc, conf, sizes, maps, labels)

    def aux_map(self, aux, size: Sequence[int]) -> torch.Tensor:
        loc, conf, sizes = aux
        return self.adm_head.artifact_map(loc, conf, sizes, size)
