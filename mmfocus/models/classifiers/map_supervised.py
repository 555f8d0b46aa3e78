# Copyright (c) mmfocus contributors.
"""The shared frame of the detectors of Table III that a map supervises."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample

from ..utils.build import ModuleOrCfg, build_module
from ..utils.labels import gt_labels
from ..utils.map_targets import stack_map_targets

IMAGENET_PREPROCESSOR = dict(type='ImgDataPreprocessor',
                             mean=(123.675, 116.28, 103.53),
                             std=(58.395, 57.12, 57.375),
                             bgr_to_rgb=True)


class MapSupervisedClassifier(BaseModel):
    """A real/fake classifier with an auxiliary branch whose target is
    derived from the sample's map (``gt_mask``, any map source; real faces
    all zeros).

    Subclasses build their branch and implement :meth:`_heads` (class
    logits and the branch's raw output), :meth:`aux_loss` (the branch's
    losses from the stacked target maps) and optionally :meth:`aux_map`
    (a ``(B, 1, H, W)`` map in [0, 1] for ``pred_map``). Without a branch
    (``aux`` is None) the model is the plain classifier baseline.

    A detector whose branch is trained without maps (an attention module
    with its own losses, e.g. MaDD) sets :attr:`uses_map_targets` False:
    its :meth:`aux_loss` then gets ``maps=None`` and the samples need no
    ``gt_mask``.

    Args:
        backbone (dict | nn.Module): Returns a tuple of feature maps.
        num_classes (int): Defaults to 2 (real, fake).
        target_size (Sequence[int]): Resolution the target maps are stacked
            at before a subclass converts them. Defaults to (56, 56).
        data_preprocessor (dict, optional): Defaults to mmengine's
            ``ImgDataPreprocessor`` with ImageNet mean/std and BGR->RGB.
        init_cfg (dict, optional): Defaults to None.
    """

    #: The branch is trained against the samples' maps (``gt_mask``).
    uses_map_targets: bool = True

    def __init__(self,
                 backbone: ModuleOrCfg,
                 num_classes: int = 2,
                 target_size: Sequence[int] = (56, 56),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor or dict(IMAGENET_PREPROCESSOR),
            init_cfg=init_cfg)
        self.backbone = build_module(backbone)
        self.num_classes = num_classes
        self.target_size = tuple(target_size)

    @property
    def with_aux(self) -> bool:
        """Whether the auxiliary (map-supervised) branch exists."""
        raise NotImplementedError

    def extract_feat(self, inputs: torch.Tensor) -> tuple:
        """Backbone features (a tuple of ``(B, C, H, W)`` tensors)."""
        feats = self.backbone(inputs)
        if isinstance(feats, torch.Tensor):
            feats = (feats, )
        return tuple(feats)

    def _heads(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, object]:
        raise NotImplementedError

    def aux_loss(self, aux, maps: torch.Tensor,
                 labels: torch.Tensor) -> dict:
        raise NotImplementedError

    def aux_map(self, aux, size) -> Optional[torch.Tensor]:
        return None

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``'tensor'``: ``(cls logits, branch output or None)``;
        ``'loss'``: a dict of losses; ``'predict'``: data samples."""
        if mode == 'tensor':
            return self._heads(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """``loss_cls`` (CE), the branch's losses when it exists, ``acc``."""
        logits, aux = self._heads(inputs)
        labels = gt_labels(data_samples, logits.device, type(self).__name__)
        losses = dict(loss_cls=F.cross_entropy(logits.float(), labels))
        if aux is not None:
            maps = None
            if self.uses_map_targets:
                maps = stack_map_targets(data_samples, labels,
                                         self.target_size,
                                         type(self).__name__)
            losses.update(self.aux_loss(aux, maps, labels))
        with torch.no_grad():
            losses['acc'] = (logits.argmax(-1) == labels).float().mean()
        return losses

    def predict(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None
    ) -> List[DataSample]:
        """Fill ``pred_score`` (softmax), ``pred_label`` and, where the
        branch gives one, ``pred_map`` (``(H, W)`` in [0, 1])."""
        logits, aux = self._heads(inputs)
        scores = logits.detach().float().softmax(-1)
        maps = None
        if aux is not None:
            maps = self.aux_map(aux, inputs.shape[-2:])
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(scores))]
        for i, ds in enumerate(data_samples):
            ds.set_pred_score(scores[i]).set_pred_label(scores[i].argmax())
            if maps is not None:
                ds.set_field(maps[i, 0].detach().float(), 'pred_map',
                             dtype=torch.Tensor)
        return data_samples


def make_classifier(in_channels: int, num_classes: int,
                    dropout: float) -> Tuple[nn.Module, nn.Linear]:
    """Dropout (identity at 0) and the linear classifier."""
    drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
    return drop, nn.Linear(in_channels, num_classes)
