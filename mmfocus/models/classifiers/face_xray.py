# Copyright (c) mmfocus contributors.
"""Face X-ray (Li et al., CVPR 2020, "Face X-ray for More General Face
Forgery Detection") with its blending boundary supervised by any map
(the dataset's blend masks, or a map source's maps)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn

from mmfocus.registry import MODELS
from ..necks.hrnetv2 import HRNetV2Concat
from ..utils.build import ModuleOrCfg, build_module
from ..utils.map_targets import xray_to_region
from .map_supervised import MapSupervisedClassifier, make_classifier

CLS_INPUTS = ('xray', 'features')
MAP_MODES = ('boundary', 'region')


def xray_classifier(channels: Sequence[int]) -> nn.Sequential:
    """Conv 3x3 stride 2 + BN + ReLU blocks on the one-channel X-ray
    (``1 -> channels[0] -> ... -> channels[-1]``)."""
    layers, c_in = [], 1
    for c in channels:
        layers += [
            nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(inplace=True)
        ]
        c_in = c
    return nn.Sequential(*layers)


@MODELS.register_module()
class FaceXray(MapSupervisedClassifier):
    """HRNet + HRNetV2 representation + face X-ray head + classifier.

    The backbone (``mmpretrain.HRNet``, w48 in the paper, 256 px) returns
    its four branches (strides 4 to 32); :class:`~mmfocus.models.necks.
    HRNetV2Concat` upsamples them to the first and concatenates them
    (720 x 64 x 64 for w48); :class:`~mmfocus.models.heads.FaceXrayHead`
    (a 1x1 conv) predicts the X-ray logits, upsampled bilinearly to the
    input and passed through a sigmoid: the predicted blending boundary
    ``B`` in [0, 1]. Loss: ``CE + 100 x BCE(B_pred, B)`` with
    ``B = 4 M (1 - M)`` of the (3 x 3 Gaussian-blurred) target map ``M``;
    real faces' targets are all zeros.

    Choices where the paper gives no detail (all switchable):

    * ``cls_input='xray'`` (default): the real/fake classifier reads the
      *predicted X-ray* (the sigmoid map at the feature resolution; the
      upsampled one adds nothing), through ``cls_channels`` conv 3x3
      stride-2 + BN + ReLU blocks (``(32, 64)``), global average pooling
      and a linear layer; the CE gradient reaches the backbone through the
      X-ray. ``'features'`` pools the HRNetV2 representation instead.
    * BCE is the mean over the pixels (not a sum), at ``target_size``
      (the input size in the configs).
    * the target blur: 3 x 3, sigma 0.8, applied to every map
      (``FaceXrayHead(blur=...)``).

    ``pred_map`` (:meth:`aux_map`) marks the **blending boundary**, not the
    forged region: 1 at the middle of the boundary, 0 inside and outside.
    ``map_mode='region'`` fills what a closed predicted boundary encloses
    (:func:`~mmfocus.models.utils.map_targets.xray_to_region`); an open
    one stays a boundary.

    Args:
        backbone (dict | nn.Module): e.g. ``dict(type='mmpretrain.HRNet',
            arch='w48')``.
        neck (dict | nn.Module, optional): Defaults to None, i.e.
            :class:`HRNetV2Concat`.
        xray_head (dict | nn.Module, optional): ``None`` gives the plain
            HRNet classifier (``cls_input`` must be ``'features'``).
            Defaults to None.
        cls_input (str): ``'xray'`` or ``'features'``. Defaults to
            ``'xray'``.
        cls_channels (Sequence[int]): Widths of the X-ray classifier's conv
            blocks. Defaults to (32, 64).
        feat_channels (int, optional): Channels of the representation for
            ``cls_input='features'``; defaults to the head's
            ``in_channels``. Defaults to None.
        dropout (float): Before the linear layer. Defaults to 0.0.
        map_mode (str): ``'boundary'`` or ``'region'``. Defaults to
            ``'boundary'``.
        region_thr (float): X-ray threshold of ``map_mode='region'``.
            Defaults to 0.5.
        **kwargs: :class:`MapSupervisedClassifier` arguments.
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 neck: Optional[ModuleOrCfg] = None,
                 xray_head: Optional[ModuleOrCfg] = None,
                 cls_input: str = 'xray',
                 cls_channels: Sequence[int] = (32, 64),
                 feat_channels: Optional[int] = None,
                 dropout: float = 0.0,
                 map_mode: str = 'boundary',
                 region_thr: float = 0.5,
                 **kwargs) -> None:
        super().__init__(backbone, **kwargs)
        if cls_input not in CLS_INPUTS:
            raise ValueError(f'cls_input must be one of {CLS_INPUTS}, got '
                             f'{cls_input!r}')
        if map_mode not in MAP_MODES:
            raise ValueError(f'map_mode must be one of {MAP_MODES}, got '
                             f'{map_mode!r}')
        self.neck = build_module(neck) if neck is not None \
            else HRNetV2Concat()
        self.xray_head = build_module(xray_head)
        if self.xray_head is None and cls_input == 'xray':
            raise ValueError("cls_input='xray' needs an xray_head; the "
                             "plain classifier uses cls_input='features'")
        self.cls_input = cls_input
        self.map_mode = map_mode
        self.region_thr = region_thr
        if cls_input == 'xray':
            if not cls_channels:
                raise ValueError('cls_channels must not be empty')
            self.cls_convs = xray_classifier(cls_channels)
            cls_in = cls_channels[-1]
        else:
            self.cls_convs = None
            cls_in = feat_channels or getattr(self.xray_head, 'in_channels',
                                              None)
            if cls_in is None:
                raise ValueError("cls_input='features' without an xray_head "
                                 'needs feat_channels')
        self.dropout, self.fc = make_classifier(cls_in, self.num_classes,
                                                dropout)

    @property
    def with_aux(self) -> bool:
        return self.xray_head is not None

    def extract_feat(self, inputs: torch.Tensor) -> tuple:
        """The HRNetV2 representation, as a one-tensor tuple."""
        return (self.neck(super().extract_feat(inputs)), )

    def _features(self, inputs: torch.Tensor):
        feat = self.extract_feat(inputs)[0]
        logits = self.xray_head(feat) if self.with_aux else None
        if self.cls_input == 'xray':
            pooled = self.cls_convs(logits.float().sigmoid()).mean((2, 3))
        else:
            pooled = feat.float().mean((2, 3))
        return pooled, logits

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The pooled classifier input ``(B, C)`` (for t-SNE)."""
        return self._features(inputs)[0]

    def _heads(self, inputs: torch.Tensor):
        pooled, logits = self._features(inputs)
        return self.fc(self.dropout(pooled)), logits

    def aux_loss(self, aux: torch.Tensor, maps: torch.Tensor,
                 labels: torch.Tensor) -> dict:
        return dict(loss_xray=self.xray_head.loss(aux, maps))

    def aux_map(self, aux: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        """The predicted X-ray ``(B, 1, *size)`` in [0, 1] (the blending
        boundary), or its filled region with ``map_mode='region'``."""
        xray = self.xray_head.xray(aux, size)
        if self.map_mode == 'region':
            xray = xray_to_region(xray, self.region_thr)
        return xray
