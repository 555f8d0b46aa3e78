# Copyright (c) mmfocus contributors.
"""Face crops of video frames and of their manipulation masks."""
from typing import List, Optional

import cv2
import numpy as np

from mmfocus.faces import Face, crop_face


def largest_face(faces: List[Face]) -> Optional[Face]:
    """The face with the largest box (ties: the higher score, then the
    detector's order).

    Args:
        faces (list[Face]): Detections.

    Returns:
        Face | None: The largest face, None when ``faces`` is empty.
    """
    best, best_key = None, None
    for face in faces:
        x1, y1, x2, y2 = [float(v) for v in face.bbox]
        key = (max(x2 - x1, 0.0) * max(y2 - y1, 0.0), face.score)
        if best_key is None or key > best_key:
            best, best_key = face, key
    return best


def crop_frame(img: np.ndarray, face: Face, margin: float = 1.3,
               size: int = 224):
    """Square crop of one face.

    The square is built around the 68 landmarks when the detector gave them
    (as for the demo data and the self-blended images), around the box
    otherwise (RetinaFace's 5 points span only the inner face).

    Args:
        img (np.ndarray): BGR uint8 frame.
        face (Face): The face to crop.
        margin (float): Crop side relative to the face extent.
            Defaults to 1.3.
        size (int): Output side. Defaults to 224.

    Returns:
        tuple: ``crop`` (``size x size`` BGR), ``landmarks`` in crop
        coordinates (``(K, 2)`` float32 or None) and ``affine`` (2x3,
        frame -> crop coordinates).
    """
    lmk = face.landmarks
    if lmk is not None and len(lmk) == 68:
        return crop_face(img, lmk, margin=margin, size=size)
    crop, _, affine = crop_face(img, bbox=face.bbox, margin=margin,
                                size=size)
    if lmk is not None:
        pts = np.asarray(lmk, dtype=np.float64).reshape(-1, 2)
        lmk = (pts @ affine[:, :2].T + affine[:, 2]).astype(np.float32)
    return crop, lmk, affine


def binarize_mask(mask: np.ndarray, thr: int = 16) -> np.ndarray:
    """Binary 0/255 mask from a (compressed, colour or grey) mask frame.

    FF++ stores its masks as lossy videos; FaceSwap's "mask" is the rendered
    face texture on black. A pixel is manipulated when its brightest channel
    exceeds ``thr`` (a low threshold, above the compression noise).

    Args:
        mask (np.ndarray): ``(H, W)`` or ``(H, W, C)`` uint8 image.
        thr (int): Threshold in [0, 255). Defaults to 16.

    Returns:
        np.ndarray: ``(H, W)`` uint8 with values 0 and 255.
    """
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    return np.where(mask > thr, 255, 0).astype(np.uint8)


def crop_mask(mask: np.ndarray, affine: np.ndarray, size: int,
              frame_shape=None, thr: int = 16) -> np.ndarray:
    """Crop a mask frame with a face crop's affine and binarise it.

    Args:
        mask (np.ndarray): Mask frame, ``(H, W)`` or ``(H, W, C)``.
        affine (np.ndarray): 2x3 frame -> crop affine (from
            :func:`crop_frame`).
        size (int): Crop side.
        frame_shape (tuple, optional): ``(H, W)`` of the video frame the
            affine was computed on; a mask of another size is resized to it
            first. Defaults to None (same size).
        thr (int): Binarisation threshold. Defaults to 16.

    Returns:
        np.ndarray: ``size x size`` uint8 crop with values 0 and 255.
    """
    binary = binarize_mask(mask, thr)
    if frame_shape is not None and binary.shape[:2] != tuple(
            frame_shape[:2]):
        h, w = frame_shape[:2]
        binary = cv2.resize(binary, (w, h), interpolation=cv2.INTER_NEAREST)
    warped = cv2.warpAffine(binary, np.asarray(affine, np.float64),
                            (size, size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.where(warped >= 128, 255, 0).astype(np.uint8)
