# Copyright (c) mmfocus contributors.
"""Drawing the inferencer's outputs on full images: each face's map as a
heat-map over the face with its box and score, the frame label of a video
frame, and the thumbnail strip of a video."""
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfocus.faces.align import project_map
from .overlay import colorize_map

__all__ = ['FAKE_COLOR', 'REAL_COLOR', 'map_windows', 'draw_faces',
           'draw_frame', 'FrameStrip']

FAKE_COLOR = (0, 0, 255)  # BGR red
REAL_COLOR = (0, 200, 0)  # BGR green


def map_windows(faces: Sequence[dict], img_shape: Tuple[int, int],
                map_key: str = 'map'
                ) -> Iterator[Tuple[Tuple[slice, slice], np.ndarray,
                                    np.ndarray]]:
    """Each face's map projected onto the image, window by window.

    Args:
        faces (Sequence[dict]): Face results with ``affine`` (image -> crop)
            and ``map_key``; faces without that map are skipped.
        img_shape (tuple): ``(H, W)`` of the image the maps go onto.
        map_key (str): ``'map'`` or ``'map_fake'``. Defaults to ``'map'``.

    Yields:
        tuple: ``(rows, cols)`` slices of the window, its colourised map
        (``float32`` BGR, :func:`~mmfocus.visualization.overlay.colorize_map`)
        and the crop's coverage in it (1 inside, 0 outside); windows that
        lie outside the image are skipped.
    """
    for f in faces:
        if f.get(map_key) is None:
            continue
        win, proj, cover = project_map(f[map_key], np.asarray(f['affine']),
                                       img_shape[:2])
        if win is not None:
            yield win, colorize_map(proj).astype(np.float32), cover


def draw_faces(img: np.ndarray, faces: Sequence[dict],
               alpha: float = 0.5, map_key: str = 'map') -> np.ndarray:
    """The overlay image: each face's map as a heat-map over the face (in
    full-image coordinates), its box and its score.

    Args:
        img (np.ndarray): BGR uint8 full image.
        faces (Sequence[dict]): Face results of
            :class:`mmfocus.apis.FocusInferencer`
            (``box``, ``score``, ``label``, ``affine`` and ``map_key``).
        alpha (float): Heat-map opacity. Defaults to 0.5.
        map_key (str): ``'map'`` or ``'map_fake'``. Defaults to ``'map'``.

    Returns:
        np.ndarray: A new BGR uint8 image; ``img`` is not modified.
    """
    vis = img.copy()
    for win, color, cover in map_windows(faces, img.shape[:2], map_key):
        a = (alpha * cover)[..., None]
        roi = vis[win].astype(np.float32)
        vis[win] = np.clip(roi * (1 - a) + color * a + .5, 0,
                           255).astype(np.uint8)
    h, w = img.shape[:2]
    thick = max(1, round(max(h, w) / 400))
    font = max(0.4, max(h, w) / 1000)
    for f in faces:
        x1, y1, x2, y2 = [int(round(v)) for v in f['box']]
        col = FAKE_COLOR if f['label'] == 'fake' else REAL_COLOR
        cv2.rectangle(vis, (x1, y1), (x2 - 1, y2 - 1), col, thick)
        text = f"{f['label']} {f['score']:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX,
                                         font, thick)
        ty = y1 - base - 1 if y1 - th - base - 1 >= 0 else y2 + th + 1
        tx = min(max(x1, 0), max(w - tw, 0))
        cv2.putText(vis, text, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX,
                    font, col, thick, cv2.LINE_AA)
    return vis


def draw_frame(img: np.ndarray, faces: Sequence[dict], frame_idx: int,
               alpha: float = 0.5, map_key: str = 'map') -> np.ndarray:
    """:func:`draw_faces` of a video frame, labelled ``frame <idx>`` in its
    bottom-left corner."""
    vis = draw_faces(img, faces, alpha=alpha, map_key=map_key)
    cv2.putText(vis, f'frame {frame_idx}', (4, vis.shape[0] - 6),
                cv2.FONT_HERSHEY_SIMPLEX,
                max(0.35, max(vis.shape[:2]) / 1200),
                (255, 255, 255), 1, cv2.LINE_AA)
    return vis


class FrameStrip:
    """Thumbnails of a video's drawn frames, side by side in one image.

    Every frame is offered to :meth:`add`; one in ``keep_every`` is kept as
    a ``height`` px thumbnail, and when more than ``keep`` are kept every
    other one is dropped and ``keep_every`` doubles, so the thumbnails stay
    spread over the whole video in bounded memory. :meth:`image` picks at
    most ``show`` of them, evenly.

    Args:
        height (int): Thumbnail height in px. Defaults to 128.
        keep (int): Thumbnails kept at most. Defaults to 16.
        show (int): Thumbnails in the strip at most. Defaults to 8.
    """

    def __init__(self, height: int = 128, keep: int = 16,
                 show: int = 8) -> None:
        self.height, self.keep, self.show = height, keep, show
        self.thumbs: List[np.ndarray] = []
        self.keep_every = 1
        self.offered = 0

    def add(self, vis: np.ndarray) -> None:
        """Offer the next frame (BGR uint8)."""
        n = self.offered
        self.offered += 1
        if n % self.keep_every:
            return
        scale = self.height / vis.shape[0]
        thumb = cv2.resize(vis, (max(1, round(vis.shape[1] * scale)),
                                 self.height), interpolation=cv2.INTER_AREA)
        self.thumbs.append(thumb)
        if len(self.thumbs) > self.keep:
            self.thumbs = self.thumbs[::2]
            self.keep_every *= 2

    def image(self) -> Optional[np.ndarray]:
        """The strip, or None when no frame was added."""
        thumbs = self.thumbs
        if not thumbs:
            return None
        if len(thumbs) > self.show:
            pick = np.linspace(0, len(thumbs) - 1,
                               self.show).round().astype(int)
            thumbs = [thumbs[i] for i in pick]
        return np.concatenate(thumbs, axis=1)
