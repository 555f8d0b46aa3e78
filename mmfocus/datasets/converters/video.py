# Copyright (c) mmfocus contributors.
"""Reading sampled frames from (possibly corrupt) videos with OpenCV or
PyAV.

Frames are read sequentially (``grab`` up to each wanted index, ``retrieve``
it) rather than by seeking with ``CAP_PROP_POS_FRAMES``, which is not frame
accurate for every codec: the frame index of a fake and of its real twin must
name the same instant for the pairing to hold.

:func:`read_frames` takes a ``decoder``: ``'opencv'`` (the default) or
``'pyav'`` (PyAV's FFmpeg bindings, decoding in ``threads`` FFmpeg threads:
frame and slice threading, ``thread_type='AUTO'``; only the wanted frames
are converted to BGR). Both decode every frame up to the last wanted one
with the same FFmpeg and give the same BGR bytes for the converters' videos
(tested on H.264 yuv420p, the FF++ / Celeb-DF / DFDC codec); the decoder is
how frames are read, not what they are, so it is not one of the settings a
resumed conversion must repeat.

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


def probe_with_twin(path: str, twin_path=None) -> Tuple[int, int, object]:
    """Frame counts of a video and of the real twin that places its sampled
    indices: ``(own, twin, twin_error)``. An unreadable twin gives the
    video's own count and the :class:`VideoReadError` (the caller records
    it); an unreadable video raises."""
    num = probe_frame_count(path)
    if not twin_path:
        return num, num, None
    try:
        return num, probe_frame_count(twin_path), None
    except VideoReadError as e:
        return num, num, e


#: The decoders of :func:`read_frames` (``--decoder``).
DECODERS = ('opencv', 'pyav')


def _read_frames_pyav(path: str, wanted: List[int], threads: int
                      ) -> Dict[int, np.ndarray]:
    """PyAV: decode frame by frame up to the last wanted index, in
    ``threads`` FFmpeg threads (0: FFmpeg's choice), converting only the
    wanted frames; a decoding error ends the stream (the rest reads as
    unreadable, as OpenCV's ``grab`` failing)."""
    import av
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError) as e:
        raise VideoReadError(f'cannot open video (missing, corrupt or '
                             f'unsupported codec): {path} ({e})') from None
    frames: Dict[int, np.ndarray] = {}
    try:
        if not container.streams.video:
            raise VideoReadError(f'no video stream: {path}')
        stream = container.streams.video[0]
        stream.thread_type = 'AUTO'
        stream.codec_context.thread_count = int(threads)
        want, last = set(wanted), wanted[-1]
        try:
            for idx, frame in enumerate(container.decode(stream)):
                if idx in want:
                    img = frame.to_ndarray(format='bgr24')
                    if img.size:
                        frames[idx] = img
                if idx >= last:
                    break
        except (av.FFmpegError, EOFError):
            pass  # a truncated or corrupt stream: what was read is kept
    finally:
        container.close()
    return frames


def read_frames(path: str, indices: Sequence[int], decoder: str = 'opencv',
                threads: int = 0
                ) -> Tuple[Dict[int, np.ndarray], List[int]]:
    """Decode the frames at ``indices``.

    Args:
        path (str): Video file, or a folder of frame images.
        indices (Sequence[int]): Frame indices (any order, >= 0).
        decoder (str): ``'opencv'`` or ``'pyav'`` (see the module
            docstring); an image folder is read with OpenCV either way.
            Defaults to ``'opencv'``.
        threads (int): ``'pyav'``: FFmpeg decoding threads, 0 for FFmpeg's
            choice. Defaults to 0.

    Returns:
        tuple: ``frames`` (index -> BGR uint8 image) and ``unreadable``
        (sorted indices that could not be decoded, e.g. past the end of a
        truncated video).

    Raises:
        VideoReadError: The video cannot be opened.
    """
    if decoder not in DECODERS:
        raise ValueError(f'decoder must be one of {DECODERS}, got '
                         f'{decoder!r}')
    if int(threads) < 0:
        raise ValueError(f'threads must be >= 0, got {threads}')
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
    if decoder == 'pyav':
        frames = _read_frames_pyav(path, wanted, int(threads))
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


def clip_starts(num_frames: int, clips: int, clip_len: int) -> List[int]:
    """First frames of ``clips`` clips of ``clip_len`` consecutive frames
    spread evenly over a video: :func:`sample_indices` over the possible
    starts ``0 .. num_frames - clip_len`` (the middle of ``clips`` equal
    segments of them). Fewer when the video has fewer possible starts, none
    when it is shorter than ``clip_len``; clips overlap when
    ``clips * clip_len > num_frames``.

    Example:
        >>> clip_starts(100, 3, 10)
        [15, 45, 75]
    """
    if clip_len <= 0:
        raise ValueError(f'clip_len must be positive, got {clip_len}')
    return sample_indices(num_frames - clip_len + 1, clips)


class FrameReader:
    """Sequential reader of one video (or image-sequence folder) for
    increasing frame indices, keeping the frames read since
    :meth:`release_before` so that overlapping clips reuse them.

    Frames are decoded with ``grab`` up to each index (as
    :func:`read_frames`: no inexact seeking). A frame that cannot be
    decoded reads as None (after the first one, every later frame of a
    video file too: its stream has ended).

    Args:
        path (str): Video file or folder of frame images.

    Raises:
        VideoReadError: The video cannot be opened.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._files = list_frame_files(path) if osp.isdir(path) else None
        self._cap = None if self._files is not None else _open(path)
        self._pos = 0  # frames grabbed from the video file
        self._last = -1  # last index read
        self._ended = False
        self._cache: Dict[int, np.ndarray] = {}

    def read(self, idx: int):
        """The BGR frame ``idx`` (None when it cannot be decoded); ``idx``
        must be kept (see :meth:`release_before`) or after the last one."""
        idx = int(idx)
        if idx in self._cache:
            return self._cache[idx]
        if idx <= self._last:
            raise ValueError(f'frame {idx} of {self.path} was released '
                             f'(read up to {self._last})')
        self._last = idx
        img = None
        if self._files is not None:
            if idx < len(self._files):
                img = cv2.imread(self._files[idx], cv2.IMREAD_COLOR)
        elif not self._ended:
            while self._pos <= idx:
                if not self._cap.grab():
                    self._ended = True
                    break
                self._pos += 1
            if not self._ended:
                ok, img = self._cap.retrieve()
                img = img if ok else None
        if img is not None and not img.size:
            img = None
        self._cache[idx] = img
        return img

    def release_before(self, idx: int) -> None:
        """Forget the kept frames before ``idx``."""
        for i in [i for i in self._cache if i < idx]:
            del self._cache[i]

    def close(self) -> None:
        self._cache.clear()
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
