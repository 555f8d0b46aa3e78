# Copyright (c) mmfocus contributors.
"""SSD-style anchors for CADDM's Artifact Detection Module.

Boxes are in normalised image coordinates: point form ``(x1, y1, x2, y2)``
in [0, 1], priors in centre form ``(cx, cy, w, h)``. Matching, encoding and
the loss follow SSD (Liu et al., ECCV 2016) as CADDM's released code uses it:
each ground-truth box claims its best prior, every other prior takes the
box it overlaps most and is positive when that IoU reaches ``iou_thr``;
offsets are encoded with variances ``(0.1, 0.2)``; the confidence loss keeps
all positives and the ``neg_pos`` x as many hardest negatives.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

VARIANCES = (0.1, 0.2)


def artifact_priors(feature_sizes: Sequence[int],
                    min_sizes: Sequence[float],
                    max_sizes: Sequence[float],
                    clip: bool = True) -> torch.Tensor:
    """Priors of every level, ``(P, 4)`` centre form, P = 2 sum f_k^2.

    Two priors per location, as CADDM's ``PriorBox``: a ``min x max``
    rectangle and its transpose (sizes as fractions of the image side);
    centres at ``((j + 0.5) / f_k, (i + 0.5) / f_k)``, row-major per level,
    the two priors of one location adjacent (the order of the head's
    output channels).
    """
    if not len(feature_sizes) == len(min_sizes) == len(max_sizes):
        raise ValueError('feature_sizes, min_sizes and max_sizes must have '
                         'one entry per level')
    out = []
    for f, lo, hi in zip(feature_sizes, min_sizes, max_sizes):
        idx = (torch.arange(f, dtype=torch.float32) + 0.5) / f
        cy, cx = torch.meshgrid(idx, idx, indexing='ij')
        cx, cy = cx.reshape(-1), cy.reshape(-1)
        a = torch.stack([cx, cy, torch.full_like(cx, lo),
                         torch.full_like(cx, hi)], -1)
        b = torch.stack([cx, cy, torch.full_like(cx, hi),
                         torch.full_like(cx, lo)], -1)
        out.append(torch.stack([a, b], 1).reshape(-1, 4))
    priors = torch.cat(out)
    return priors.clamp(0, 1) if clip else priors


def point_form(priors: torch.Tensor) -> torch.Tensor:
    """``(cx, cy, w, h)`` -> ``(x1, y1, x2, y2)``."""
    return torch.cat([priors[:, :2] - priors[:, 2:] / 2,
                      priors[:, :2] + priors[:, 2:] / 2], 1)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of point-form boxes, ``(A, B)``."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / (area_a[:, None] + area_b[None] - inter).clamp(min=1e-12)


def encode_boxes(matched: torch.Tensor, priors: torch.Tensor,
                 variances: Sequence[float] = VARIANCES) -> torch.Tensor:
    """Offsets of point-form ``matched`` boxes w.r.t. centre-form priors."""
    cxcy = ((matched[:, :2] + matched[:, 2:]) / 2 - priors[:, :2]) / (
        variances[0] * priors[:, 2:])
    wh = torch.log((matched[:, 2:] - matched[:, :2]).clamp(min=1e-6) /
                   priors[:, 2:]) / variances[1]
    return torch.cat([cxcy, wh], 1)


def decode_boxes(loc: torch.Tensor, priors: torch.Tensor,
                 variances: Sequence[float] = VARIANCES) -> torch.Tensor:
    """Inverse of :func:`encode_boxes`; ``loc`` is ``(..., P, 4)``."""
    cxcy = priors[..., :2] + loc[..., :2] * variances[0] * priors[..., 2:]
    wh = priors[..., 2:] * torch.exp(loc[..., 2:] * variances[1])
    return torch.cat([cxcy - wh / 2, cxcy + wh / 2], -1)


def match_priors(boxes: torch.Tensor, priors: torch.Tensor,
                 iou_thr: float = 0.5,
                 variances: Sequence[float] = VARIANCES
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Targets of one image: ``(loc_t (P, 4), conf_t (P,) long)``.

    ``boxes`` ``(G, 4)`` point form; ``G = 0`` (a real face) gives every
    prior the background label 0 and zero offsets. Positives get label 1
    (artefact).
    """
    num = priors.shape[0]
    if boxes.numel() == 0:
        return (priors.new_zeros(num, 4),
                torch.zeros(num, dtype=torch.long, device=priors.device))
    iou = box_iou(boxes, point_form(priors))  # (G, P)
    best_prior = iou.argmax(1)  # (G,)
    best_iou, best_box = iou.max(0)  # (P,)
    best_iou[best_prior] = 2.0  # every box keeps its best prior
    best_box[best_prior] = torch.arange(boxes.shape[0], device=boxes.device)
    conf = (best_iou >= iou_thr).long()
    return encode_boxes(boxes[best_box], priors, variances), conf


def multibox_loss(loc: torch.Tensor, conf: torch.Tensor,
                  loc_t: torch.Tensor, conf_t: torch.Tensor,
                  neg_pos: int = 2,
                  min_neg: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """SSD's loss with hard negative mining, both terms divided by the
    number of positives in the batch (1 if there are none).

    Args:
        loc, loc_t: ``(B, P, 4)`` predicted / target offsets.
        conf: ``(B, P, C)`` logits; ``conf_t``: ``(B, P)`` labels
            (0 = background).
        neg_pos: Negatives kept per positive (per image).
        min_neg: Negatives kept at least per image. 0 (CADDM's code): an
            image without positives (a real face) adds nothing to the
            detection loss.

    Returns:
        tuple: ``(loss_loc, loss_conf)``.
    """
    pos = conf_t > 0
    num_pos = pos.sum(1, keepdim=True)
    loss_loc = F.smooth_l1_loss(loc[pos], loc_t[pos], reduction='sum')
    ce = F.cross_entropy(conf.flatten(0, 1), conf_t.flatten(),
                         reduction='none').view_as(conf_t)
    mined = ce.detach().masked_fill(pos, 0)
    rank = mined.argsort(1, descending=True).argsort(1)
    num_neg = (neg_pos * num_pos).clamp(min=min_neg, max=pos.shape[1] - 1)
    neg = rank < num_neg
    loss_conf = ce[pos | neg].sum()
    n = max(int(num_pos.sum()), 1)
    return loss_loc / n, loss_conf / n


def paint_boxes(boxes: torch.Tensor, scores: torch.Tensor,
                size: Sequence[int]) -> torch.Tensor:
    """A map from scored boxes: each pixel takes the highest score of the
    boxes containing its centre (0 where none does).

    Args:
        boxes: ``(B, P, 4)`` point form, normalised.
        scores: ``(B, P)`` in [0, 1].
        size: ``(H, W)`` of the map.

    Returns:
        Tensor: ``(B, H, W)``.
    """
    h, w = size
    ys = (torch.arange(h, device=boxes.device, dtype=boxes.dtype) + 0.5) / h
    xs = (torch.arange(w, device=boxes.device, dtype=boxes.dtype) + 0.5) / w
    inside_x = (xs[None, None] >= boxes[..., 0:1]) & \
        (xs[None, None] <= boxes[..., 2:3])  # (B, P, W)
    inside_y = (ys[None, None] >= boxes[..., 1:2]) & \
        (ys[None, None] <= boxes[..., 3:4])  # (B, P, H)
    inside = inside_y[..., :, None] & inside_x[..., None, :]  # (B, P, H, W)
    painted = torch.where(inside, scores[..., None, None],
                          scores.new_zeros(()))
    return painted.amax(1)
