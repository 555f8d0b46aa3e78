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


def gaussian_kernel1d(kernel_size: int, sigma: float = 0.0) -> torch.Tensor:
    """A normalised 1-D Gaussian kernel (float64, ``(kernel_size, )``).

    ``sigma <= 0`` takes OpenCV's (and torchvision's) default for the size,
    ``0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8`` (0.8 for 3 taps). Unlike
    ``cv2.getGaussianKernel`` with ``sigma <= 0``, which returns fixed
    binomial taps for sizes up to 7, this is always the sampled Gaussian
    (so it equals ``cv2.GaussianBlur`` given that sigma explicitly).

    Raises:
        ValueError: ``kernel_size`` is not a positive odd integer.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'kernel_size must be a positive odd integer, got '
                         f'{kernel_size}')
    if sigma <= 0:
        sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    x = torch.arange(kernel_size, dtype=torch.float64) - (kernel_size - 1) / 2
    k = torch.exp(-x**2 / (2 * sigma**2))
    return k / k.sum()


def gaussian_blur_maps(maps: torch.Tensor, kernel_size: int = 3,
                       sigma: float = 0.0) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, 1, h, w)`` maps.

    The border is reflected without repeating the edge pixel (``'reflect'``,
    OpenCV's default ``BORDER_REFLECT_101``), so the result equals
    ``cv2.GaussianBlur(m, (k, k), sigma)`` with an explicit ``sigma > 0``.
    A map smaller than the kernel's radius + 1 is padded by replication.
    """
    if maps.dim() != 4 or maps.shape[1] != 1:
        raise ValueError('gaussian_blur_maps expects (B, 1, h, w) maps, '
                         f'got {tuple(maps.shape)}')
    if kernel_size == 1:
        return maps
    k = gaussian_kernel1d(kernel_size, sigma).to(maps.device, maps.dtype)
    r = kernel_size // 2
    mode = 'reflect' if min(maps.shape[-2:]) > r else 'replicate'
    x = F.pad(maps, (r, r, r, r), mode=mode)
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    return F.conv2d(x, k.view(1, 1, -1, 1))


def xray_targets(maps: torch.Tensor, kernel_size: int = 3,
                 sigma: float = 0.0, blur: str = 'always',
                 tol: float = 1e-3) -> torch.Tensor:
    """Face X-ray targets ``B = 4 M (1 - M)`` of blend masks ``M``.

    ``B`` is 1 where the mask is 0.5 (the middle of the blending boundary)
    and 0 where the mask is 0 or 1 (pure background, pure foreground), so a
    real face's all-zero map gives ``B = 0`` everywhere. A hard 0/1 mask
    would give ``B = 0`` everywhere too, so the mask is first softened by a
    ``kernel_size`` x ``kernel_size`` Gaussian (:func:`gaussian_blur_maps`;
    3 x 3, sigma 0.8 by default): a hard edge then gives a 2-pixel band.

    Args:
        maps: ``(B, 1, h, w)`` masks in [0, 1] (:func:`stack_map_targets`).
        kernel_size (int): Gaussian size; 1 switches the blur off.
            Defaults to 3.
        sigma (float): <= 0 takes OpenCV's default for the size (0.8 for 3).
            Defaults to 0.0.
        blur (str): ``'always'`` blurs every map; ``'binary'`` only the maps
            whose every value is within ``tol`` of 0 or 1 (a hard mask at
            its own size; a soft blend mask is used as it is); ``'never'``
            uses the maps as they are. Defaults to ``'always'``.
        tol (float): Defaults to 1e-3.

    Returns:
        Tensor: ``(B, 1, h, w)`` in [0, 1].
    """
    if blur not in ('always', 'binary', 'never'):
        raise ValueError(f"blur must be 'always', 'binary' or 'never', got "
                         f'{blur!r}')
    m = maps.float().clamp(0, 1)
    if blur != 'never' and kernel_size > 1:
        soft = gaussian_blur_maps(m, kernel_size, sigma)
        if blur == 'binary':
            hard = ((m <= tol) | (m >= 1 - tol)).flatten(1).all(1)
            soft = torch.where(hard.view(-1, 1, 1, 1), soft, m)
        m = soft.clamp(0, 1)
    return 4 * m * (1 - m)


def xray_to_region(xray: torch.Tensor, thr: float = 0.5) -> torch.Tensor:
    """A region map from a predicted Face X-ray (blending boundary).

    The X-ray marks where a blend mask is *neither* 0 nor 1, so it cannot
    say on which side of the boundary the forged region lies. The region
    is taken as what a closed boundary encloses: ``B >= thr`` is binarised,
    the holes it encloses (:func:`scipy.ndimage.binary_fill_holes`, minus
    the boundary itself) are the interior, and the result is
    ``max(B, interior)``. A boundary that is open (e.g. cut by the
    crop border) encloses nothing and stays a boundary; a real face's
    near-zero X-ray stays near zero. Not differentiable (prediction only).

    Args:
        xray: ``(B, 1, h, w)`` in [0, 1].
        thr (float): Absolute threshold on the X-ray. Defaults to 0.5.

    Returns:
        Tensor: ``(B, 1, h, w)`` in [0, 1], on ``xray``'s device.
    """
    if xray.dim() != 4 or xray.shape[1] != 1:
        raise ValueError('xray_to_region expects (B, 1, h, w) maps, got '
                         f'{tuple(xray.shape)}')
    arr = xray.detach().float().cpu().numpy()
    inside = []
    for a in arr:
        edge = a[0] >= thr
        inside.append((ndimage.binary_fill_holes(edge) & ~edge)[None])
    region = torch.from_numpy(np.stack(inside).astype(np.float32))
    return torch.maximum(xray, region.to(xray.device, xray.dtype))
