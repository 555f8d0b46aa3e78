# Copyright (c) mmfocus contributors.
"""Video decoding throughput of the converters' decoders, in one run.

:func:`benchmark_decoders` reads the sampled frames of every video (the
converters' :func:`~mmfocus.datasets.converters.video.read_frames`, frames
spread evenly as :func:`~mmfocus.datasets.converters.video.sample_indices`
places them) with each decoder in turn (A, B, C, A, B, C, ... after a
warm-up, so a slow moment of a shared machine hits all of them), and gives
frames/s decoded (every frame up to the last sampled one is decoded: the
converters do not seek), sampled frames/s and videos/s, with the resident
memory's peak and its growth from the first video to the last (a bounded
reader keeps it flat; ``memory_passes`` reads the videos again and again, so
a slow leak shows as growth after the first pass). :func:`write_synthetic_video` writes test videos at
DFDC's resolution (1920 x 1080, H.264) where no dataset is at hand.

Example:
    >>> info = write_synthetic_video('/tmp/v.mp4', seconds=1,
    ...                              size=(64, 48))  # doctest: +SKIP
    >>> res = benchmark_decoders(['/tmp/v.mp4'], frames=4)  # doctest: +SKIP
"""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from mmfocus.datasets.converters.video import (probe_frame_count,
                                               read_frames, sample_indices)
from .memory import _proc_status_kib
from .timing import interleaved_timings, summarize_times

__all__ = ['write_synthetic_video', 'benchmark_decoders',
           'DEFAULT_DECODERS']

#: Label -> (decoder, threads): OpenCV, and PyAV with 1, 2 and FFmpeg's
#: choice of threads.
DEFAULT_DECODERS = {'opencv': ('opencv', 0), 'pyav-1': ('pyav', 1),
                    'pyav-2': ('pyav', 2), 'pyav-auto': ('pyav', 0)}


def write_synthetic_video(path: str, seconds: float = 10.,
                          size: Tuple[int, int] = (1920, 1080),
                          fps: int = 30, seed: int = 0,
                          preset: str = 'veryfast', crf: int = 23,
                          face: Optional[np.ndarray] = None) -> dict:
    """Write an H.264 (yuv420p, libx264) video of moving texture with
    per-frame noise, so that the encoder spends bits on every frame as on
    a camera recording (DFDC's clips are 10 s, 1920 x 1080, 30 fps).

    ``face`` (a BGR photo) is pasted into every frame, scaled to 60 % of
    the frame's height and drifting slowly, so that a face detector finds
    one face per frame (a stand-in DFDC subject for the converters).

    Returns:
        dict: ``path``, ``frames``, ``bytes`` and ``mbit_s`` (the bit
        rate).
    """
    import av
    w, h = int(size[0]), int(size[1])
    n = max(1, int(round(seconds * fps)))
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), np.uint8)
    base = np.ascontiguousarray(base.repeat(8, 0).repeat(8, 1)[:h, :w])
    if face is not None:
        import cv2
        fh = max(1, int(0.6 * h))
        fw = min(w, max(1, int(round(face.shape[1] * fh / face.shape[0]))))
        face = cv2.resize(face, (fw, fh), interpolation=cv2.INTER_AREA)
    tmp = f'{path}.writing.mp4'
    out = av.open(tmp, 'w')
    try:
        st = out.add_stream('libx264', rate=fps)
        st.width, st.height, st.pix_fmt = w, h, 'yuv420p'
        st.options = {'preset': preset, 'crf': str(crf)}
        for i in range(n):
            img = np.roll(base, (i // 2, 3 * i), axis=(0, 1))
            noise = rng.integers(-6, 7, img.shape, np.int16)
            img = np.clip(img.astype(np.int16) + noise, 0, 255).astype(
                np.uint8)
            if face is not None:
                # left-right drift over the clip, within the frame
                x = int((w - fw) * (0.4 + 0.2 * np.sin(2 * np.pi * i / n)))
                y = (h - fh) // 2
                img[y:y + fh, x:x + fw] = face
            for pkt in st.encode(av.VideoFrame.from_ndarray(
                    img, format='bgr24')):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    finally:
        out.close()
    os.replace(tmp, path)
    size_b = osp.getsize(path)
    return dict(path=path, frames=n, bytes=size_b,
                mbit_s=size_b * 8 / 1e6 / (n / fps))


def _rss() -> int:
    return (_proc_status_kib('VmRSS') or 0) * 1024


def benchmark_decoders(paths: Sequence[str], frames: int = 10,
                       decoders: Optional[Dict[str, Tuple[str, int]]] = None,
                       warmup: int = 1, repeats: int = 3,
                       memory_passes: int = 1,
                       progress: Optional[str] = None) -> dict:
    """Frames/s of each decoder over the same videos.

    Args:
        paths (Sequence[str]): Videos.
        frames (int): Frames sampled per video (``--frames``).
        decoders (dict, optional): Label -> ``(decoder, threads)`` of
            :func:`read_frames`. Defaults to :data:`DEFAULT_DECODERS`.
        warmup (int): Untimed rounds. Defaults to 1.
        repeats (int): Timed rounds. Defaults to 3.
        memory_passes (int): Untimed passes over all videos per decoder,
            after the timings, with the resident set read after every
            video (``memory_passes * len(paths)`` reads). Defaults to 1.
        progress (str, optional): A tqdm label. Defaults to None.

    Returns:
        dict: ``videos``, ``frames_per_video``, ``decoded_frames`` (all
        videos, up to each one's last sampled frame), ``sampled_frames``,
        and per label in ``decoders``: the :func:`summarize_times` keys of
        one pass over all videos, ``decoded_fps``, ``sampled_fps``,
        ``videos_s``, ``rss_base_mb`` (the process's resident set before
        the memory passes), ``rss_mb`` (after each video read of them),
        ``peak_rss_mb`` (its maximum), ``rss_growth_mb`` (last read minus
        first) and ``rss_growth_after_pass1_mb`` (last read minus the end
        of the first pass; 0 with one pass).

    Raises:
        ValueError: no video, ``memory_passes < 1``, or a decoder reads other frames than the
            first one (they must agree to be compared).
    """
    if not paths:
        raise ValueError('no video to decode')
    if memory_passes < 1:
        raise ValueError(f'memory_passes must be >= 1, got {memory_passes}')
    decoders = dict(decoders or DEFAULT_DECODERS)
    plan = []
    for p in paths:
        idx = sample_indices(probe_frame_count(p), frames)
        plan.append((p, idx))
    decoded = sum(idx[-1] + 1 for _, idx in plan if idx)
    sampled = sum(len(idx) for _, idx in plan)

    def run(decoder, threads, rss=None):
        got = 0
        for p, idx in plan:
            fr, _ = read_frames(p, idx, decoder=decoder, threads=threads)
            got += len(fr)
            del fr  # as a converter drops a video's frames once written
            if rss is not None:
                rss.append(_rss())
        return got

    # the decoders must read the same frames
    first_label, (d0, t0) = next(iter(decoders.items()))
    ref = [read_frames(p, idx, decoder=d0, threads=t0)[0] for p, idx in plan]
    for label, (dec, thr) in decoders.items():
        for (p, idx), want in zip(plan, ref):
            got = read_frames(p, idx, decoder=dec, threads=thr)[0]
            if sorted(got) != sorted(want) or any(
                    not np.array_equal(got[i], want[i]) for i in want):
                raise ValueError(f'{label} reads other frames of {p} than '
                                 f'{first_label}')
    del ref, got, want  # not held through the timings and memory passes
    fns = {label: (lambda d=dec, t=thr: run(d, t))
           for label, (dec, thr) in decoders.items()}
    times = interleaved_timings(fns, warmup=warmup, repeats=repeats,
                                progress=progress)
    out = dict(videos=len(plan), frames_per_video=frames,
               memory_passes=memory_passes,
               decoded_frames=decoded, sampled_frames=sampled, decoders={})
    for label, (dec, thr) in decoders.items():
        s = summarize_times(times[label])
        base = _rss()
        rss = []
        for _ in range(memory_passes):
            run(dec, thr, rss)
        res = dict(decoder=dec, threads=thr)
        res.update(s)
        med = s['median_s']
        res.update(decoded_fps=decoded / med, sampled_fps=sampled / med,
                   videos_s=len(plan) / med,
                   rss_base_mb=base / 2**20,
                   peak_rss_mb=max(rss) / 2**20,
                   rss_mb=[r / 2**20 for r in rss],
                   rss_growth_mb=(rss[-1] - rss[0]) / 2**20,
                   rss_growth_after_pass1_mb=(
                       rss[-1] - rss[len(plan) - 1]) / 2**20)
        out['decoders'][label] = res
    return out
