# Copyright (c) mmfocus contributors.
"""Colour overlays of manipulation maps on faces."""
import cv2
import numpy as np


def colorize_map(m: np.ndarray, colormap: int = cv2.COLORMAP_JET
                 ) -> np.ndarray:
    """Map values in [0, 1] (HxW) to a BGR uint8 colour image."""
    m8 = np.clip(np.nan_to_num(m) * 255. + .5, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(m8, colormap)


def overlay_map(face_bgr: np.ndarray, m: np.ndarray, alpha: float = 0.45,
                colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Blend a colourised map onto a BGR face (map resized to the face)."""
    h, w = face_bgr.shape[:2]
    if m.shape != (h, w):
        m = cv2.resize(m.astype(np.float32), (w, h),
                       interpolation=cv2.INTER_LINEAR)
    return cv2.addWeighted(face_bgr, 1 - alpha, colorize_map(m, colormap),
                           alpha, 0)
