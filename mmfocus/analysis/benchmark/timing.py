# Copyright (c) mmfocus contributors.
"""Interleaved timings and their statistics (median, quartiles, the paired
ratio of two series)."""
import gc
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch

__all__ = ['interleaved_timings', 'summarize_times', 'paired_ratio']


def _sync_fn(device: Union[str, torch.device]) -> Callable[[], None]:
    device = torch.device(device)
    if device.type == 'cuda':
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def interleaved_timings(fns: Dict[str, Callable[[], Any]],
                        warmup: int = 1,
                        repeats: int = 5,
                        iters: int = 1,
                        sync: Optional[Callable[[], None]] = None,
                        progress: Optional[str] = None
                        ) -> Dict[str, List[float]]:
    """Time several callables in turn: A, B, A, B, ... after a warm-up.

    Each repeat times ``iters`` consecutive calls of one callable with
    ``time.perf_counter``, ``sync()`` called before starting and before
    stopping the clock (``torch.cuda.synchronize`` on a GPU), and records
    the mean seconds per call.

    Args:
        fns (dict[str, callable]): Name -> callable, timed in this order.
        warmup (int): Untimed rounds (each callable ``iters`` times).
            Defaults to 1.
        repeats (int): Timed rounds. Defaults to 5.
        iters (int): Calls per timed sample. Defaults to 1.
        sync (callable, optional): Device barrier. Defaults to a no-op.
        progress (str, optional): Show a tqdm bar (on stderr, with its
            rate and ETA) labelled so, one tick per callable per round; it
            is updated after the clock stops. Defaults to None (no bar).

    Returns:
        dict[str, list[float]]: Seconds per call, one value per repeat.
    """
    if repeats < 1 or iters < 1 or warmup < 0:
        raise ValueError(f'need repeats >= 1, iters >= 1, warmup >= 0; got '
                         f'{repeats}, {iters}, {warmup}')
    sync = sync or (lambda: None)
    from tqdm import tqdm
    bar = tqdm(total=(warmup + repeats) * len(fns), desc=progress,
               unit='step', disable=progress is None, leave=False)
    for _ in range(warmup):
        for fn in fns.values():
            for _ in range(iters):
                fn()
            bar.update(1)
    sync()
    gc.collect()
    times: Dict[str, List[float]] = {name: [] for name in fns}
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in fns.items():
                sync()
                t0 = time.perf_counter()
                for _ in range(iters):
                    fn()
                sync()
                times[name].append((time.perf_counter() - t0) / iters)
                bar.update(1)
    finally:
        bar.close()
        if was_enabled:
            gc.enable()
    return times


def summarize_times(times: Sequence[float],
                    images: Optional[int] = None) -> dict:
    """Median, quartiles (numpy's linear interpolation) and range.

    Args:
        times (Sequence[float]): Seconds per step.
        images (int, optional): Images per step; adds ``img_s`` (images
            per second at the median) and its interquartile range.

    Returns:
        dict: ``median_s``, ``q1_s``, ``q3_s``, ``min_s``, ``max_s``, ``n``,
        ``times_s`` and optionally ``img_s``, ``img_s_q1``, ``img_s_q3``.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.size == 0:
        raise ValueError('no timings to summarise')
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    out = dict(median_s=float(med), q1_s=float(q1), q3_s=float(q3),
               min_s=float(t.min()), max_s=float(t.max()), n=int(t.size),
               times_s=[float(x) for x in t])
    if images is not None:
        out['img_s'] = images / float(med)
        out['img_s_q1'] = images / float(q3)  # slower quartile
        out['img_s_q3'] = images / float(q1)
    return out


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> dict:
    """Ratio ``a / b`` of two interleaved timing series.

    The headline ``ratio`` is the median of the per-repeat ratios
    ``a_i / b_i``: each pair ran back to back, so a slow moment of a shared
    machine or a clock change hits both sides of a pair and cancels out.

    Args:
        a (Sequence[float]): Model seconds per step, one per repeat.
        b (Sequence[float]): Reference seconds, the same repeats.

    Returns:
        dict: ``ratio`` (median of ``a_i / b_i``), ``q1``, ``q3``, ``min``,
        ``max`` of those ratios, and ``ratio_of_medians`` =
        median(a) / median(b).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f'paired timings differ in length: {a.size} vs '
                         f'{b.size}')
    r = a / b
    q1, med, q3 = np.percentile(r, [25, 50, 75])
    return dict(ratio=float(med), q1=float(q1), q3=float(q3),
                min=float(r.min()), max=float(r.max()),
                ratio_of_medians=float(np.median(a) / np.median(b)))
