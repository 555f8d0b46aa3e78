# Copyright (c) mmfocus contributors.
"""Video files with OpenCV: open one (its frame rate and length), read
every n-th frame, and write an mp4 that appears only once complete.

Example:
    >>> cap, fps, total = open_video('clip.mp4')
    >>> for idx, frame in read_frames(cap, stride=5, max_frames=10):
    ...     pass
    >>> cap.release()
"""
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

import cv2
import numpy as np

__all__ = ['VIDEO_EXTS', 'open_video', 'read_frames', 'AtomicVideoWriter']

#: File extensions read as videos.
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv')


def open_video(path: str, default_fps: float = 25.0
               ) -> Tuple[cv2.VideoCapture, float, int]:
    """Open a video file.

    Args:
        path (str): The file.
        default_fps (float): The frame rate when the file gives none (or a
            non-finite one). Defaults to 25.

    Returns:
        tuple: The ``cv2.VideoCapture`` (the caller releases it), the frame
        rate and the frame count the container reports (0 when unknown).

    Raises:
        OSError: The file does not exist.
        ValueError: An empty (zero-byte) file, or one OpenCV cannot open
            (corrupt or not a video).
    """
    if osp.getsize(path) == 0:
        raise ValueError(f'empty (zero-byte) video file: {path}')
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise ValueError(f'cannot open video (corrupt or not a '
                         f'video): {path}')
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and np.isfinite(fps) and fps > 0 \
        else default_fps
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    return cap, fps, total


def read_frames(cap: cv2.VideoCapture, stride: int = 1,
                max_frames: Optional[int] = None
                ) -> Iterator[Tuple[int, np.ndarray]]:
    """Frames ``0, stride, 2 * stride, ...`` of an open video, as they are
    decoded (the skipped ones are only grabbed, not decoded).

    Args:
        cap (cv2.VideoCapture): An open video.
        stride (int): Use every n-th frame. Defaults to 1.
        max_frames (int, optional): Stop after this many frames.

    Yields:
        tuple: The frame index in the video and the frame as decoded.
    """
    idx, n = -1, 0
    while max_frames is None or n < max_frames:
        idx += 1
        if idx % stride:
            if not cap.grab():
                break
            continue
        ok, frame = cap.read()
        if not ok or frame is None:
            break
        yield idx, frame
        n += 1


class AtomicVideoWriter:
    """An mp4 written to a hidden ``.<name>.tmp.mp4`` beside ``path`` and
    moved onto ``path`` by :meth:`commit`, so that ``path`` only ever holds
    a complete video; :meth:`close` without a commit removes the partial
    file.

    Args:
        path (str): The final file.
        fps (float): Frame rate.
        size (tuple[int, int]): ``(width, height)``; frames of another size
            are resized to it.
        fourcc (str): Codec. Defaults to ``'mp4v'``.

    Attributes:
        opened (bool): Whether OpenCV could open an encoder; when it could
            not, nothing is written.
    """

    def __init__(self, path: str, fps: float, size: Tuple[int, int],
                 fourcc: str = 'mp4v') -> None:
        self.path = path
        self.tmp = osp.join(osp.dirname(path),
                            f'.{osp.basename(path)}.tmp.mp4')
        self.size = (int(size[0]), int(size[1]))
        self._writer = cv2.VideoWriter(self.tmp,
                                       cv2.VideoWriter_fourcc(*fourcc), fps,
                                       self.size)
        self.opened = bool(self._writer.isOpened())
        self.committed = False

    def write(self, frame: np.ndarray) -> None:
        """Append a BGR uint8 frame."""
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        self._writer.write(frame)

    def commit(self) -> None:
        """Finish the file and move it onto ``path``."""
        self._writer.release()
        os.replace(self.tmp, self.path)
        self.committed = True

    def close(self) -> None:
        """Release the encoder; the partial file goes unless committed."""
        self._writer.release()
        if self.opened and not self.committed and osp.exists(self.tmp):
            os.remove(self.tmp)
