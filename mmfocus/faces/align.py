# Copyright (c) mmfocus contributors.
"""Square face crops from landmarks or boxes.

Coordinates follow cv2: pixel ``(i, j)`` has its centre at ``x = j, y = i``.
The crop maps the square ``[x0, x0 + side] x [y0, y0 + side]`` (in those
coordinates) onto the full extent of the ``size x size`` output, i.e. onto
``[-0.5, size - 0.5]``, so the square's centre lands on the crop's centre
``(size - 1) / 2`` and lengths scale by ``size / side``. The same 2x3 affine
moves the points, so ``cv2.transform(points[None], affine)`` gives the
landmarks in crop coordinates and
``cv2.warpAffine(img, affine, (size, size))`` gives the crop (up to the
anti-alias prefilter applied for strong downscaling). :func:`project_map`
is the way back: a crop-space map warped onto the full image.
"""
from typing import Optional, Tuple

import cv2
import numpy as np


def square_box(landmarks: Optional[np.ndarray] = None,
               bbox: Optional[np.ndarray] = None,
               margin: float = 1.3) -> Tuple[float, float, float]:
    """Square crop region around landmarks or a box.

    Args:
        landmarks (np.ndarray, optional): ``(N, 2)`` points ``x, y``.
        bbox (np.ndarray, optional): ``x1, y1, x2, y2`` (used when no
            landmarks are given).
        margin (float): Side of the square relative to the longer side of
            the landmark / box extent. Defaults to 1.3.

    Returns:
        tuple[float, float, float]: Left ``x0``, top ``y0`` and ``side``
        of the square, in image coordinates.
    """
    if landmarks is not None:
        pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0 or not np.isfinite(pts).all():
            raise ValueError('landmarks must be a non-empty finite (N, 2) '
                             'array')
        x1, y1 = pts.min(0)
        x2, y2 = pts.max(0)
    elif bbox is not None:
        x1, y1, x2, y2 = [float(v) for v in np.asarray(bbox).reshape(4)]
    else:
        raise ValueError('crop_face needs landmarks or bbox')
    if margin <= 0:
        raise ValueError(f'margin must be positive, got {margin}')
    side = margin * max(x2 - x1, y2 - y1, 1.0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return cx - side / 2, cy - side / 2, side


def crop_affine(x0: float, y0: float, side: float, size: int) -> np.ndarray:
    """2x3 affine mapping the square ``(x0, y0, side)`` onto the extent
    ``[-0.5, size - 0.5]`` of a ``size x size`` image: ``x' = s (x - x0) -
    0.5`` with ``s = size / side``."""
    s = size / side
    return np.array([[s, 0.0, -s * x0 - 0.5], [0.0, s, -s * y0 - 0.5]],
                    dtype=np.float64)


def crop_face(img: np.ndarray,
              landmarks: Optional[np.ndarray] = None,
              bbox: Optional[np.ndarray] = None,
              margin: float = 1.3,
              size: int = 224,
              antialias: bool = True
              ) -> Tuple[np.ndarray, Optional[np.ndarray], np.ndarray]:
    """Crop a square face region and resize it.

    The square is centred on the bounding box of the landmarks (or on
    ``bbox``), with side ``margin * max(w, h)``; parts outside the image are
    filled by replicating the border.

    Args:
        img (np.ndarray): ``(H, W)`` or ``(H, W, C)`` image.
        landmarks (np.ndarray, optional): ``(N, 2)`` points ``x, y`` in
            image pixels. Defaults to None.
        bbox (np.ndarray, optional): ``x1, y1, x2, y2``; used when
            ``landmarks`` is None. Defaults to None.
        margin (float): Crop side relative to the face extent.
            Defaults to 1.3.
        size (int): Output side in pixels. Defaults to 224.
        antialias (bool): Gaussian-prefilter the source region when it is
            shrunk by more than 1.5x, to avoid aliasing. Defaults to True.

    Returns:
        tuple: ``crop`` (``size x size``, same dtype/channels as ``img``),
        ``landmarks_in_crop`` (``(N, 2)`` float32, or None when only a bbox
        was given) and ``affine`` (2x3 float64, image -> crop coordinates).
    """
    img = np.asarray(img)
    if img.ndim not in (2, 3) or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f'expected an (H, W[, C]) image, got {img.shape}')
    x0, y0, side = square_box(landmarks, bbox, margin)
    affine = crop_affine(x0, y0, side, size)
    scale = size / side
    src, offset = img, (0, 0)
    if antialias and scale < 1 / 1.5:
        # blur only the source window the warp reads (plus a kernel margin)
        sigma = 0.5 * (1 / scale - 1)
        pad = int(np.ceil(3 * sigma)) + 2
        h, w = img.shape[:2]
        wx1 = max(int(np.floor(x0)) - pad, 0)
        wy1 = max(int(np.floor(y0)) - pad, 0)
        wx2 = min(int(np.ceil(x0 + side)) + pad, w)
        wy2 = min(int(np.ceil(y0 + side)) + pad, h)
        if wx2 > wx1 and wy2 > wy1:
            src = cv2.GaussianBlur(
                img[wy1:wy2, wx1:wx2], (0, 0), sigma,
                borderType=cv2.BORDER_REPLICATE)
            offset = (wx1, wy1)
    warp = affine.copy()
    warp[:, 2] += warp[:, :2] @ np.array(offset, dtype=np.float64)
    crop = cv2.warpAffine(
        src, warp, (size, size), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE)
    lmk = None
    if landmarks is not None:
        pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
        lmk = (pts @ affine[:, :2].T + affine[:, 2]).astype(np.float32)
    return crop, lmk, affine


def project_map(m: np.ndarray, affine: np.ndarray,
                img_shape: Tuple[int, int]
                ) -> Tuple[Optional[Tuple[slice, slice]], np.ndarray,
                           np.ndarray]:
    """Project a crop-space map back onto the full image.

    The inverse of the crop: ``cv2.warpAffine`` with ``WARP_INVERSE_MAP``
    and the image -> crop ``affine`` of :func:`crop_face`,
    evaluated only inside the crop square's bounding window (so a face on a
    huge image costs no full-size buffer).

    Args:
        m (np.ndarray): ``(S, S)`` float map of a ``S x S`` crop.
        affine (np.ndarray): 2x3 image -> crop affine.
        img_shape (tuple): ``(H, W)`` of the full image.

    Returns:
        tuple: ``(rows, cols)`` slices of the window (None if the square
        lies outside the image), the map in that window and the coverage
        (1 inside the crop square, 0 outside, soft at its edge).
    """
    h, w = img_shape[:2]
    A = np.asarray(affine, dtype=np.float64)
    inv = cv2.invertAffineTransform(A)
    s = m.shape[0]
    corners = np.array([[-.5, -.5], [s - .5, -.5], [-.5, s - .5],
                        [s - .5, s - .5]])
    pts = corners @ inv[:, :2].T + inv[:, 2]
    x1 = max(int(np.floor(pts[:, 0].min())) - 1, 0)
    y1 = max(int(np.floor(pts[:, 1].min())) - 1, 0)
    x2 = min(int(np.ceil(pts[:, 0].max())) + 2, w)
    y2 = min(int(np.ceil(pts[:, 1].max())) + 2, h)
    if x2 <= x1 or y2 <= y1:
        return None, np.zeros((0, 0), np.float32), np.zeros((0, 0),
                                                            np.float32)
    win = A.copy()
    win[:, 2] += A[:, :2] @ np.array([x1, y1], dtype=np.float64)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    size = (x2 - x1, y2 - y1)
    proj = cv2.warpAffine(m.astype(np.float32), win, size, flags=flags,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    cover = cv2.warpAffine(np.ones(m.shape[:2], np.float32), win, size,
                           flags=flags, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=0)
    return (slice(y1, y2), slice(x1, x2)), proj, cover
