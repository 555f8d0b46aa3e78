# Copyright (c) mmfocus contributors.
"""The multi-task evaluation model of Fig. 4 (method.md section 3).

A detector whose only job is to *measure* how good a map source is as a
training target: EfficientNet backbone (mmpretrain), FPN neck and FPN
decoder (mmsegmentation) predicting a 1-channel manipulation map, and a
classification head (global average pooling + linear) on the last backbone
stage. Loss: ``CE(cls) + map_weight * BCE-with-logits(map, target)``, the
target map (the sample's ``gt_mask``) resized bilinearly to the prediction.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from mmfocus.registry import MODELS
from ..utils.build import ModuleOrCfg, build_module
from ..utils.labels import gt_labels
from ..utils.map_targets import stack_map_targets


@MODELS.register_module()
class MultiTaskDetector(BaseModel):
    """Classifier + map decoder trained on a map source (Fig. 4).

    Args:
        backbone (dict | nn.Module): Returns a tuple of feature maps, e.g.
            ``dict(type='mmpretrain.EfficientNet', arch='b4',
            out_indices=(2, 3, 4, 5, 6))``.
        neck (dict | nn.Module, optional): FPN over the backbone outputs
            selected by ``neck_in_indices`` (``type='mmseg.FPN'``).
            Defaults to None (no map branch).
        decoder (dict | nn.Module, optional): Takes the neck outputs and
            returns ``(B, 1, h, w)`` map logits (``type='mmseg.FPNHead'``
            with ``out_channels=1``). Defaults to None (no map branch).
        num_classes (int): Defaults to 2 (real, fake).
        cls_in_channels (int): Channels of the backbone output used by the
            classification head. Defaults to 1792 (EfficientNet-B4).
        cls_in_index (int): Backbone output for the classification head.
            Defaults to -1 (the last).
        neck_in_indices (Sequence[int]): Backbone outputs fed to the neck.
            Defaults to ``(0, 1, 2, 3)``.
        map_weight (float): Weight of the map loss; 0 (or no decoder) gives
            the no-map baseline. Defaults to 0.1 (the paper).
        dropout (float): Dropout before the linear classifier.
            Defaults to 0.0.
        channels_last (bool): Run the network in ``channels_last`` memory
            format (faster convolutions on GPUs with AMP). Defaults to False.
        data_preprocessor (dict, optional): Defaults to mmengine's
            ``ImgDataPreprocessor`` with ImageNet mean/std and BGR->RGB.
        init_cfg (dict, optional): Defaults to None.

    Example:
        >>> model = MultiTaskDetector(
        ...     backbone=dict(type='mmpretrain.EfficientNet', arch='b0',
        ...                   out_indices=(2, 3, 4, 5, 6)),
        ...     neck=dict(type='mmseg.FPN', in_channels=[24, 40, 112, 320],
        ...               out_channels=64, num_outs=4),
        ...     decoder=dict(type='mmseg.FPNHead', in_channels=[64] * 4,
        ...                  in_index=[0, 1, 2, 3],
        ...                  feature_strides=[4, 8, 16, 32], channels=32,
        ...                  num_classes=2, out_channels=1, threshold=0.5),
        ...     cls_in_channels=1280)
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 neck: Optional[ModuleOrCfg] = None,
                 decoder: Optional[ModuleOrCfg] = None,
                 num_classes: int = 2,
                 cls_in_channels: int = 1792,
                 cls_in_index: int = -1,
                 neck_in_indices: Sequence[int] = (0, 1, 2, 3),
                 map_weight: float = 0.1,
                 dropout: float = 0.0,
                 channels_last: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ImgDataPreprocessor',
                                     mean=(123.675, 116.28, 103.53),
                                     std=(58.395, 57.12, 57.375),
                                     bgr_to_rgb=True)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if (neck is None) != (decoder is None):
            raise ValueError('MultiTaskDetector: give both neck and decoder '
                             '(map branch) or neither (no-map baseline)')
        if map_weight < 0:
            raise ValueError(f'map_weight must be >= 0, got {map_weight}')
        self.backbone = build_module(backbone)
        self.neck = build_module(neck)
        self.decoder = build_module(decoder)
        self.num_classes = num_classes
        self.cls_in_index = cls_in_index
        self.neck_in_indices = tuple(neck_in_indices)
        self.map_weight = float(map_weight)
        self.channels_last = channels_last
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(cls_in_channels, num_classes)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    @property
    def with_map(self) -> bool:
        """Whether the model has a map branch."""
        return self.decoder is not None

    # ------------------------------------------------------------------ #
    def extract_feat(self, inputs: torch.Tensor) -> tuple:
        """Backbone features (a tuple of ``(B, C, H, W)`` tensors)."""
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        feats = self.backbone(inputs)
        if isinstance(feats, torch.Tensor):
            feats = (feats, )
        return tuple(feats)

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The feature the classification head takes: the pooled backbone
        output ``(B, cls_in_channels)`` (before dropout and ``fc``).

        The counterpart of mmpretrain's ``extract_feat(inputs,
        stage='pre_logits')``; used by the t-SNE plot
        (:mod:`mmfocus.visualization.tsne`).
        """
        feats = self.extract_feat(inputs)
        return feats[self.cls_in_index].float().mean((2, 3))

    def _heads(self, inputs: torch.Tensor):
        feats = self.extract_feat(inputs)
        pooled = feats[self.cls_in_index].float().mean((2, 3))
        logits = self.fc(self.dropout(pooled))
        map_logits = None
        if self.with_map:
            fpn = self.neck([feats[i] for i in self.neck_in_indices])
            map_logits = self.decoder(list(fpn))
        return logits, map_logits

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``'tensor'``: ``(cls logits, map logits or None)``;
        ``'loss'``: a dict of losses; ``'predict'``: data samples."""
        if mode == 'tensor':
            return self._heads(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    @staticmethod
    def _labels(data_samples: List[DataSample], device) -> torch.Tensor:
        return gt_labels(data_samples, device, 'MultiTaskDetector')

    @staticmethod
    def map_targets(data_samples: List[DataSample], labels: torch.Tensor,
                    size: Sequence[int]) -> torch.Tensor:
        """The samples' ``gt_mask`` as ``(B, 1, h, w)`` targets
        (:func:`~mmfocus.models.utils.map_targets.stack_map_targets`; real
        faces all zeros)."""
        return stack_map_targets(data_samples, labels, size,
                                 'MultiTaskDetector')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """``loss_cls`` (CE) and, with a map branch and ``map_weight > 0``,
        ``loss_map`` (``map_weight`` x BCE-with-logits); plus ``acc``."""
        logits, map_logits = self._heads(inputs)
        labels = self._labels(data_samples, logits.device)
        losses = dict(loss_cls=F.cross_entropy(logits.float(), labels))
        if map_logits is not None and self.map_weight > 0:
            target = self.map_targets(data_samples, labels,
                                      map_logits.shape[-2:])
            losses['loss_map'] = self.map_weight * \
                F.binary_cross_entropy_with_logits(map_logits.float(), target)
        with torch.no_grad():
            losses['acc'] = (logits.argmax(-1) == labels).float().mean()
        return losses

    def predict(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None
    ) -> List[DataSample]:
        """Fill ``pred_score`` (softmax), ``pred_label`` and, with a map
        branch, ``pred_map`` (sigmoid of the logits upsampled bilinearly to
        the input size, ``(H, W)`` in [0, 1])."""
        logits, map_logits = self._heads(inputs)
        scores = logits.detach().float().softmax(-1)
        maps = None
        if map_logits is not None:
            maps = F.interpolate(map_logits.detach().float(),
                                 size=inputs.shape[-2:],
                                 mode='bilinear',
                                 align_corners=False).sigmoid()
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(scores))]
        for i, ds in enumerate(data_samples):
            ds.set_pred_score(scores[i]).set_pred_label(scores[i].argmax())
            if maps is not None:
                ds.set_field(maps[i, 0], 'pred_map', dtype=torch.Tensor)
        return data_samples
