# Copyright (c) mmfocus contributors.
"""Face-detection throughput of the converters' detectors, in one run.

:func:`benchmark_detectors` gives each detector the same frames as the
converters do (all sampled frames of a video in one
:meth:`~mmfocus.faces.BaseFaceDetector.detect_batch` call), in turn
(A, B, C, A, B, C, ... after a warm-up), and reports frames/s with its
interquartile range, the faces found per frame and, against the first
detector, how often the largest faces agree (IoU >= 0.5).
:func:`synthetic_frames` pastes real face photos into frames of DFDC's
resolution where no video is at hand.

Example:
    >>> from mmfocus.faces import build_face_detector
    >>> frames = synthetic_frames(['demo/faces/photos/2008_001009.jpg'],
    ...                           4)  # doctest: +SKIP
    >>> res = benchmark_detectors(
    ...     {'dlib': build_face_detector(None)}, frames)  # doctest: +SKIP
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfocus.datasets.converters.crops import largest_face
from mmfocus.faces.detectors import BaseFaceDetector, _iou
from .timing import _sync_fn, interleaved_timings, summarize_times

__all__ = ['synthetic_frames', 'benchmark_detectors']


def synthetic_frames(photos: Sequence[str], n: int,
                     size: Tuple[int, int] = (1920, 1080),
                     face_frac: Tuple[float, float] = (0.3, 0.6),
                     seed: int = 0) -> List[np.ndarray]:
    """``n`` BGR frames of ``size`` (W, H): a blurred noise background with
    one photo (cycling through ``photos``) scaled to a height of
    ``face_frac`` x the frame height and placed at random.

    Raises:
        FileNotFoundError: a photo cannot be read.
    """
    if n < 1 or not photos:
        raise ValueError('need n >= 1 and at least one photo')
    imgs = []
    for p in photos:
        img = cv2.imread(p, cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f'photo not readable: {p}')
        imgs.append(img)
    rng = np.random.RandomState(seed)
    w, h = size
    out = []
    for i in range(n):
        frame = cv2.GaussianBlur(
            rng.randint(0, 256, (h // 8, w // 8, 3), np.uint8), (5, 5), 0)
        frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR)
        photo = imgs[i % len(imgs)]
        ph = int(h * rng.uniform(*face_frac))
        pw = min(w, int(photo.shape[1] * ph / photo.shape[0]))
        photo = cv2.resize(photo, (pw, ph), interpolation=cv2.INTER_AREA)
        y = rng.randint(0, h - ph + 1)
        x = rng.randint(0, w - pw + 1)
        frame[y:y + ph, x:x + pw] = photo
        out.append(frame)
    return out


def benchmark_detectors(detectors: Dict[str, BaseFaceDetector],
                        frames: Sequence[np.ndarray],
                        videos: int = 1,
                        warmup: int = 1, repeats: int = 3,
                        device: Optional[str] = None,
                        progress: Optional[str] = None) -> dict:
    """Frames/s of each detector on the same frames.

    Args:
        detectors (dict[str, BaseFaceDetector]): Label -> detector; the
            first one is the reference of the agreement figures.
        frames (Sequence[np.ndarray]): BGR uint8 frames, ``videos`` equal
            groups of consecutive frames (one ``detect_batch`` call each,
            as the converters make one per video).
        videos (int): Groups the frames split into. Defaults to 1.
        warmup (int): Untimed passes. Defaults to 1.
        repeats (int): Timed passes. Defaults to 3.
        device (str, optional): Synchronised around each timed pass (a
            CUDA detector's work is asynchronous). Defaults to None.
        progress (str, optional): tqdm label. Defaults to None.

    Returns:
        dict: ``frames`` and per detector ``fps`` (median), ``fps_q1``,
        ``fps_q3``, ``faces_per_frame``, ``no_face`` (frames without a
        face), ``largest_iou_ge_05`` (share of frames whose largest face
        overlaps the reference's, over the frames both found one in) and
        the timing summary.
    """
    if not detectors:
        raise ValueError('no detectors to benchmark')
    frames = list(frames)
    if videos < 1 or len(frames) % videos:
        raise ValueError(f'{len(frames)} frames do not split into {videos} '
                         f'equal videos')
    per = len(frames) // videos
    groups = [frames[i * per:(i + 1) * per] for i in range(videos)]

    def run(det):
        found = []
        for g in groups:
            found.extend(det.detect_batch(g))
        return found

    found = {name: run(det) for name, det in detectors.items()}  # also warm
    times = interleaved_timings(
        {name: (lambda d=det: run(d)) for name, det in detectors.items()},
        warmup=max(0, warmup - 1), repeats=repeats,
        sync=_sync_fn(device) if device else None, progress=progress)
    ref_name = next(iter(detectors))
    ref = [largest_face(f) for f in found[ref_name]]
    out = dict(frames=len(frames), videos=videos, reference=ref_name,
               detectors={})
    for name in detectors:
        t = summarize_times(times[name], images=len(frames))
        big = [largest_face(f) for f in found[name]]
        both = [(a, b) for a, b in zip(ref, big)
                if a is not None and b is not None]
        agree = (float(np.mean([_iou(a.bbox, b.bbox) >= 0.5
                                for a, b in both])) if both else None)
        out['detectors'][name] = dict(
            fps=t['img_s'], fps_q1=t['img_s_q1'], fps_q3=t['img_s_q3'],
            faces_per_frame=float(np.mean([len(f) for f in found[name]])),
            no_face=int(sum(b is None for b in big)),
            largest_iou_ge_05=agree, frames_compared=len(both),
            timing=t, detector=repr(detectors[name]))
    return out
