# Copyright (c) mmfocus contributors.
"""CADDM's Artifact Detection Module (Dong et al., CVPR 2023, Sec. 4.2)."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfocus.registry import MODELS
from ..utils.anchors import (artifact_priors, decode_boxes, match_priors,
                             multibox_loss, paint_boxes)
from ..utils.map_targets import map_to_boxes


class _ExtraBlock(nn.Module):
    """conv(k, no padding)-BN-ReLU-conv3x3-BN plus a conv(k)-BN shortcut:
    each block shrinks the map by ``k - 1``."""

    def __init__(self, channels: int, kernel_size: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, bias=False),
            nn.BatchNorm2d(channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class _EndBlock(nn.Module):
    """conv3x3(no padding)-ReLU-conv1x1 plus a conv3x3 shortcut (no BN:
    the last level is 1x1 at CADDM's input size)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3)
        self.conv2 = nn.Conv2d(channels, channels, 1)
        self.shortcut = nn.Conv2d(channels, channels, 3)

    def forward(self, x):
        out = self.conv2(F.relu(self.conv1(x)))
        return F.relu(out + self.shortcut(x))


@MODELS.register_module()
class ArtifactDetectionHead(nn.Module):
    """Multi-scale anchor detection of artefact regions, with targets taken
    from a manipulation map.

    Four levels on the backbone's last feature map ``(B, C, f, f)``: a 1x1
    extra block (``f``), two 3x3 extra blocks (``f-2``, ``f-4``) and an end
    block (``f-6``): 7, 5, 3, 1 for ResNet-34 at 224 px, as CADDM. Each
    level predicts, per location, two priors (a ``min x max`` rectangle and
    its transpose, :func:`~mmfocus.models.utils.anchors.artifact_priors`):
    4 box offsets and ``num_classes`` confidences (background, artefact);
    3x3 convolutions, 1x1 on the end level. The end level's feature, pooled,
    is added to the classifier's global feature (:class:`~mmfocus.models.
    classifiers.CADDM`).

    Targets (**interpretation**, docs/en/user_guides/detectors.md): CADDM
    takes its boxes from Multi-scale Facial Swap; here a fake sample's boxes
    are the connected components of its target map binarised at
    ``box_thr`` (x the map's maximum when ``relative_thr``;
    :func:`~mmfocus.models.utils.map_targets.map_to_boxes`), plus the
    whole face when ``face_box`` (CADDM always adds it for a fake). A fake
    whose map has no component larger than ``min_box_area`` falls back to
    the whole face. Real faces have no box: every prior is background.
    Priors match boxes by IoU >= ``iou_thr`` (SSD, CADDM: 0.5).

    Args:
        in_channels (int): Channels of the backbone's last stage.
        num_classes (int): Detection classes incl. background. Defaults 2.
        min_sizes, max_sizes (Sequence[float]): Prior sides per level as
            fractions of the image. Defaults to CADDM's
            ``(40, 80, 120, 224) / 224`` and ``(80, 120, 160, 224) / 224``.
        box_thr (float): Defaults to 0.5.
        relative_thr (bool): Defaults to True.
        min_box_area (float): Defaults to 0.01.
        face_box (bool): Defaults to False (the map alone says where).
        iou_thr (float): Defaults to 0.5.
        neg_pos (int): Hard negatives per positive. Defaults to 2 (CADDM).
        min_neg (int): Hard negatives per image at least (0: reals add no
            detection loss, as CADDM's code). Defaults to 0.
        map_size (Sequence[int]): Resolution :meth:`artifact_map` paints
            the boxes at (then resized). Defaults to (56, 56).
        loss_weight (float): Weight of ``loss_loc + loss_det_conf``.
            Defaults to 0.1 (CADDM's training script).
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int = 2,
                 min_sizes: Sequence[float] = (40 / 224, 80 / 224,
                                               120 / 224, 1.0),
                 max_sizes: Sequence[float] = (80 / 224, 120 / 224,
                                               160 / 224, 1.0),
                 box_thr: float = 0.5,
                 relative_thr: bool = True,
                 min_box_area: float = 0.01,
                 face_box: bool = False,
                 iou_thr: float = 0.5,
                 neg_pos: int = 2,
                 min_neg: int = 0,
                 map_size: Sequence[int] = (56, 56),
                 loss_weight: float = 0.1) -> None:
        super().__init__()
        if len(min_sizes) != 4 or len(max_sizes) != 4:
            raise ValueError('ArtifactDetectionHead has 4 levels: give 4 '
                             'min_sizes and 4 max_sizes')
        self.num_classes = num_classes
        self.extra = nn.ModuleList([
            _ExtraBlock(in_channels, 1),
            _ExtraBlock(in_channels, 3),
            _ExtraBlock(in_channels, 3),
            _EndBlock(in_channels)
        ])
        ks = (3, 3, 3, 1)
        self.loc_convs = nn.ModuleList(
            nn.Conv2d(in_channels, 2 * 4, k, padding=k // 2) for k in ks)
        self.conf_convs = nn.ModuleList(
            nn.Conv2d(in_channels, 2 * num_classes, k, padding=k // 2)
            for k in ks)
        self.min_sizes = tuple(float(s) for s in min_sizes)
        self.max_sizes = tuple(float(s) for s in max_sizes)
        self.box_thr = box_thr
        self.relative_thr = relative_thr
        self.min_box_area = min_box_area
        self.face_box = face_box
        self.iou_thr = iou_thr
        self.neg_pos = neg_pos
        self.min_neg = min_neg
        self.map_size = tuple(map_size)
        self.loss_weight = float(loss_weight)
        self._priors = {}

    def priors(self, sizes: Tuple[int, ...], device) -> torch.Tensor:
        """The priors of levels of these sizes (cached)."""
        key = (sizes, str(device))
        if key not in self._priors:
            self._priors[key] = artifact_priors(sizes, self.min_sizes,
                                                self.max_sizes).to(device)
        return self._priors[key]

    def forward(self, feat: torch.Tensor):
        """Returns ``(loc (B, P, 4), conf (B, P, num_classes), final
        (B, C) pooled end-level feature, level sizes)``."""
        if min(feat.shape[-2:]) < 7:
            raise ValueError(
                'ArtifactDetectionHead needs a last feature map of at '
                f'least 7x7 (3 blocks shrink it by 6), got '
                f'{tuple(feat.shape[-2:])}: use a larger input or a '
                'backbone with a smaller output stride (e.g. ResNet '
                'strides=(1, 2, 2, 1))')
        locs, confs, sizes = [], [], []
        x = feat
        for block, lc, cc in zip(self.extra, self.loc_convs,
                                 self.conf_convs):
            x = block(x)
            if x.shape[-1] != x.shape[-2]:
                raise ValueError('ArtifactDetectionHead expects square '
                                 f'feature maps, got {tuple(x.shape)}')
            sizes.append(x.shape[-1])
            b = x.shape[0]
            locs.append(lc(x).permute(0, 2, 3, 1).reshape(b, -1, 4))
            confs.append(
                cc(x).permute(0, 2, 3, 1).reshape(b, -1, self.num_classes))
        final = x.float().mean((2, 3))
        return (torch.cat(locs, 1).float(), torch.cat(confs, 1).float(),
                final, tuple(sizes))

    def boxes_of(self, target_map: torch.Tensor) -> torch.Tensor:
        """The artefact boxes of one fake sample's ``(h, w)`` map."""
        boxes = map_to_boxes(target_map, self.box_thr, self.relative_thr,
                             self.min_box_area)
        face = boxes.new_tensor([[0., 0., 1., 1.]])
        if boxes.shape[0] == 0:
            return face
        return torch.cat([face, boxes]) if self.face_box else boxes

    def targets(self, maps: torch.Tensor, labels: torch.Tensor,
                priors: torch.Tensor):
        """``(loc_t (B, P, 4), conf_t (B, P))`` from ``(B, 1, h, w)``
        target maps and the image labels (0 real: no box)."""
        loc_t, conf_t = [], []
        for m, y in zip(maps, labels.tolist()):
            boxes = self.boxes_of(m[0]) if y else priors.new_zeros(0, 4)
            lt, ct = match_priors(boxes.to(priors), priors, self.iou_thr)
            loc_t.append(lt)
            conf_t.append(ct)
        return torch.stack(loc_t), torch.stack(conf_t)

    def loss(self, loc, conf, sizes, maps, labels) -> dict:
        priors = self.priors(sizes, loc.device)
        loc_t, conf_t = self.targets(maps, labels, priors)
        l_loc, l_conf = multibox_loss(loc, conf, loc_t, conf_t,
                                      self.neg_pos, self.min_neg)
        return dict(loss_det_loc=self.loss_weight * l_loc,
                    loss_det_conf=self.loss_weight * l_conf)

    def artifact_map(self, loc, conf, sizes,
                     size: Sequence[int]) -> torch.Tensor:
        """``(B, 1, *size)``: every pixel takes the highest artefact
        probability of the decoded boxes that contain it (painted at
        ``map_size``, resized bilinearly)."""
        priors = self.priors(sizes, loc.device)
        boxes = decode_boxes(loc, priors).clamp(0, 1)
        scores = conf.softmax(-1)[..., 1:].sum(-1)
        painted = paint_boxes(boxes, scores, self.map_size)[:, None]
        return F.interpolate(painted, size=tuple(size), mode='bilinear',
                             align_corners=False)
