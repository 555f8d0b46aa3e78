# Copyright (c) mmfocus contributors.
"""Reading sampled frames from (possibly corrupt) videos with OpenCV.

Frames are read sequentially (``grab`` up to each wanted index, ``retrieve``
it) rather than by seeking with ``CAP_PROP_POS_FRAMES``, which is not frame
accurate for every codec: the frame index of a fake and of its real twin must
name the same instant for the pairing to hold.

A *folder* of images is read as a video too (an image sequence, e.g. a
WildDeepfake face sequence): its frames are the image files in natural order
(``2.png`` before ``10.png``), see :func:`list_frame_files`.
"""
import os
import os.path as osp
import re
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np


class VideoReadError(RuntimeError):
    """A video that cannot be opened or holds no decodable frame."""


#: Image files that make up an image-sequence "video".
FRAME_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t.lower()
            for t in re.split(r'(\d+)', name)]


def list_frame_files(folder: str) -> List[str]:
    """The frames of an image-sequence folder, in natural order.

    Args:
        folder (str): Folder holding the frame images (not recursive).

    Returns:
        list[str]: Paths of the ``.png`` / ``.jpg`` / ``.jpeg`` / ``.bmp``
        files, sorted by name with digit runs compared as numbers
        (``2.png`` before ``10.png``).
    """
    names = [n for n in os.listdir(folder)
             if n.lower().endswith(FRAME_EXTENSIONS) and not n.startswith('.')
             and osp.isfile(osp.join(folder, n))]
    return [osp.join(folder, n) for n in sorted(names, key=_natural_key)]


def sample_indices(num_frames: int, num: int) -> List[int]:
    """Indices of ``num`` frames spread evenly over a video.

    The video is cut into ``num`` equal segments and the middle frame of each
    is taken: ``int((k + 0.5) * num_frames / num)``. Neither the first nor
    the last frame is forced in, so a manipulated video a few frames shorter
    than its source still has every sampled index. All frames are returned
    when the video has no more than ``num``.

    Args:
        num_frames (int): Frames in the video.
        num (int): Frames wanted (> 0).

    Returns:
        list[int]: Sorted, unique frame indices.

    Example:
        >>> sample_indices(300, 3)
        [50, 150, 250]
    """
    if num <= 0:
        raise ValueError(f'the number of frames to sample must be positive, '
                         f'got {num}')
    if num_frames <= 0:
        return []
    if num_frames <= num:
        return list(range(num_frames))
    return [int((k + 0.5) * num_frames / num) for k in range(num)]


def _open(path: str) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise VideoReadError(f'cannot open video (missing, corrupt or '
                             f'unsupported codec): {path}')
    return cap


def probe_frame_count(path: str) -> int:
    """Number of frames a video's container declares.

    Args:
        path (str): Video file, or a folder of frame images (then the
            number of image files).

    Returns:
        int: Declared frame count (> 0).

    Raises:
        VideoReadError: The video cannot be opened or declares no frames.
    """
    if osp.isdir(path):
        count = len(list_frame_files(path))
        if not count:
            raise VideoReadError(
                f'no frame image ({", ".join(FRAME_EXTENSIONS)}) in the '
                f'image-sequence folder: {path}')
        return count
    cap = _open(path)
    try:
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    if count <= 0:
        raise VideoReadError(f'video declares no frames (corrupt or '
                             f'truncated): {path}')
    return count


def read_frames(path: str, indices: Sequence[int]
                ) -> Tuple[Dict[int, np.ndarray], List[int]]:
    """Decode the frames at ``indices``.

    Args:
        path (str): Video file, or a folder of frame images.
        indices (Sequence[int]): Frame indices (any order, >= 0).

    Returns:
        tuple: ``frames`` (index -> BGR uint8 image) and ``unreadable``
        (sorted indices that could not be decoded, e.g. past the end of a
        truncated video).

    Raises:
        VideoReadError: The video cannot be opened.
    """
    wanted = sorted(set(int(i) for i in indices))
    frames: Dict[int, np.ndarray] = {}
    if not wanted:
        return frames, []
    if osp.isdir(path):
        files = list_frame_files(path)
        for idx in wanted:
            img = (cv2.imread(files[idx], cv2.IMREAD_COLOR)
                   if idx < len(files) else None)
            if img is not None and img.size:
                frames[idx] = img
        return frames, [i for i in wanted if i not in frames]
    cap = _open(path)
    try:
        pos = 0
        for idx in wanted:
            ok = True
            while pos <= idx:
                ok = cap.grab()
                if not ok:
                    break
                pos += 1
            if not ok:
                break
            ok, img = cap.retrieve()
            if ok and img is not None and img.size:
                frames[idx] = img
    finally:
        cap.release()
    return frames, [i for i in wanted if i not in frames]
