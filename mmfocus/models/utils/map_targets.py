# Copyright (c) mmfocus contributors.
"""The map target every map-supervised detector starts from.

A map source (FoCus, SSIM, pixel difference, GradCAM, ...) is written to disk
by ``tools/generate_maps.py`` and loaded by ``LoadManipulationMask`` as the
sample's ``gt_mask``. :func:`stack_map_targets` turns a batch of them into one
``(B, 1, h, w)`` tensor in [0, 1] at the resolution a detector needs; each
detector then converts it to the form its auxiliary loss takes (a pixel map,
a patch-consistency volume, anchor labels, patch labels; see
docs/en/user_guides/detectors.md).
"""
from typing import List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage


def stack_map_targets(data_samples: List, labels: torch.Tensor,
                      size: Sequence[int], owner: str = 'model'
                      ) -> torch.Tensor:
    """Stack the samples' ``gt_mask`` as ``(B, 1, h, w)`` targets.

    Each mask is resized bilinearly to ``size`` (``align_corners=False``)
    and clamped to [0, 1]; a clip's ``(T, H, W)`` masks are averaged over
    its frames; a real face's target is all zeros (as in the
    paper), whatever its mask says.

    Raises:
        ValueError: a fake sample has no ``gt_mask``.
    """
    out = []
    for ds, label in zip(data_samples, labels.tolist()):
        if label == 0:
            out.append(torch.zeros(1, 1, *size, device=labels.device))
            continue
        if 'gt_mask' not in ds:
            raise ValueError(
                f'{owner}: fake sample '
                f'{ds.metainfo.get("img_path", "?")} has no gt_mask; add '
                'LoadManipulationMask to the pipeline and a mask_path '
                'to its annotation')
        mask = torch.as_tensor(ds.gt_mask).float().to(labels.device)
        mask = mask.reshape(-1, 1, *mask.shape[-2:])  # (T or 1, 1, H, W)
        out.append(
            F.interpolate(mask, size=tuple(size), mode='bilinear',
                          align_corners=False).mean(0, keepdim=True))
    return torch.cat(out).clamp(0, 1)


def consistency_targets(maps: torch.Tensor) -> torch.Tensor:
    """PCL's pairwise consistency of a map's patches.

    ``G[b, i, j] = 1 - |M_b(i) - M_b(j)|`` over the ``N = h w`` patches of
    ``maps`` ``(B, 1, h, w)`` (row-major), so two patches of the same
    region (both real, or both forged to the same degree) are consistent
    (1) and a real and a fully forged patch are not (0). With a soft map the
    target is soft. Real faces (all-zero maps) give all ones.

    Returns:
        Tensor: ``(B, N, N)`` in [0, 1].
    """
    if maps.dim() != 4 or maps.shape[1] != 1:
        raise ValueError('consistency_targets expects (B, 1, h, w) maps, '
                         f'got {tuple(maps.shape)}')
    flat = maps.flatten(1)
    return 1 - (flat[:, :, None] - flat[:, None, :]).abs()


def map_to_boxes(mask: torch.Tensor, thr: float = 0.5,
                 relative: bool = True, min_area: float = 0.01
                 ) -> torch.Tensor:
    """Boxes of the forged regions of one map (CADDM's artefact boxes).

    The map is binarised at ``thr`` (times its maximum when ``relative``, so
    a map source whose values are small, e.g. SSIM differences, still gives
    its strongest region), its 8-connected components are labelled
    (:func:`scipy.ndimage.label`) and each component larger than
    ``min_area`` (fraction of the image) gives the box that encloses it.
    An all-zero map (a real face) gives no box.

    Args:
        mask: ``(h, w)`` map in [0, 1].

    Returns:
        Tensor: ``(G, 4)`` point-form boxes ``(x1, y1, x2, y2)`` normalised
        to [0, 1] (pixel edges: a component over columns ``a..b`` spans
        ``a / w .. (b + 1) / w``), largest first.
    """
    if mask.dim() != 2:
        raise ValueError(f'map_to_boxes expects an (h, w) map, got '
                         f'{tuple(mask.shape)}')
    arr = mask.detach().float().cpu().numpy()
    peak = float(arr.max()) if arr.size else 0.0
    if peak <= 1e-6:
        return mask.new_zeros(0, 4, dtype=torch.float32)
    cut = thr * peak if relative else thr
    labels, num = ndimage.label(arr >= cut, structure=np.ones((3, 3)))
    h, w = arr.shape
    boxes, areas = [], []
    for k, sl in enumerate(ndimage.find_objects(labels), 1):
        area = float((labels[sl] == k).sum()) / (h * w)
        if area < min_area:
            continue
        ys, xs = sl
        boxes.append([xs.start / w, ys.start / h, xs.stop / w, ys.stop / h])
        areas.append(area)
    if not boxes:
        return mask.new_zeros(0, 4, dtype=torch.float32)
    order = np.argsort(areas)[::-1]
    return torch.tensor(np.asarray(boxes)[order], dtype=torch.float32,
                        device=mask.device)


def patch_labels(fraction: torch.Tensor, labels: torch.Tensor,
                 thr: float = 0.25) -> torch.Tensor:
    """LTTD's patch integrity labels from a clip's map.

    Args:
        fraction: ``(B, N)`` forged fraction of each patch over the clip
            (the map area-pooled per patch and averaged over the frames).
        labels: ``(B,)`` clip labels (0 real).
        thr: A fake clip's patch is fake when its fraction is >= ``thr``.

    Returns:
        Tensor: ``(B, N)`` in {0, 1}: all zeros for a real clip; for a fake
        clip the patches at or above ``thr``, else its most forged patch
        (the map is weak but the clip is fake), or every patch when the map
        is all zero (the label says fake, the map says nowhere).
    """
    out = (fraction >= thr).float()
    fake = labels.bool()
    none = fake & (out.sum(1) == 0)
    if none.any():
        peak = fraction.max(1).values
        top = fraction == peak[:, None]
        fill = torch.where(peak[:, None] > 0, top.float(),
                           torch.ones_like(out))
        out = torch.where(none[:, None], fill, out)
    return out * fake[:, None].float()
