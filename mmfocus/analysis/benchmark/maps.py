# Copyright (c) mmfocus contributors.
"""Map generation throughput: faces/s of each map source, in one run.

Every source computes the maps of the same face crops through
:meth:`~mmfocus.maps.sources.BaseMapSource.compute`, the call
:func:`~mmfocus.maps.generate.generate_maps` makes for each batch (PNG
encoding and writing are left out: they cost the same for every source).
The sources are timed in turn (A, B, C, A, B, C, ...) after a warm-up
(:func:`~mmfocus.analysis.benchmark.timing.interleaved_timings`), so a slow
moment of a shared machine hits all of them. With ``amp`` the model sources
run under ``torch.autocast`` and the result says how far their maps move
from the fp32 ones on the same crops.

Example:
    >>> from mmfocus.maps.sources import build_map_source
    >>> fakes, twins = synthetic_pairs(4, 32)
    >>> res = benchmark_map_sources(
    ...     {'ssim': (build_map_source('ssim'), None)}, fakes, twins,
    ...     warmup=0, repeats=2)
    >>> res['sources']['ssim']['faces'], len(res['sources']['ssim']['times_s'])
    (4, 2)
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmfocus.datasets.annotation import load_annotation
from mmfocus.maps.generate import read_pair
from mmfocus.maps.sources import BaseMapSource
from .timing import _sync_fn, interleaved_timings, summarize_times

__all__ = ['load_pairs', 'synthetic_pairs', 'amp_deviation',
           'benchmark_map_sources']


def load_pairs(ann_file: str, data_root: str, faces: int
               ) -> Tuple[List[np.ndarray], List[np.ndarray], int]:
    """The first ``faces`` fakes of an annotation that have a real twin
    (cycled if there are fewer), read as :func:`generate_maps` reads them.

    Returns:
        tuple: ``(fakes, twins, distinct)``: BGR uint8 crops, their twins,
        and how many distinct fakes they repeat.

    Raises:
        ValueError: the annotation has no fake with a ``pair_path``.
    """
    if faces < 1:
        raise ValueError(f'faces must be >= 1, got {faces}')
    entries = [e for e in load_annotation(ann_file)['data_list']
               if int(e.get('gt_label', 0)) == 1 and e.get('pair_path')]
    if not entries:
        raise ValueError(f'{ann_file}: no fake with a pair_path (the '
                         'comparison sources need the real twin)')
    pairs = [read_pair(e, data_root) for e in entries[:faces]]
    fakes = [pairs[i % len(pairs)][0] for i in range(faces)]
    twins = [pairs[i % len(pairs)][1] for i in range(faces)]
    return fakes, twins, len(pairs)


def synthetic_pairs(faces: int, size: int, seed: int = 0
                    ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """Random BGR uint8 crops of ``size`` px and twins that differ from
    them in a central square (the maps' cost does not depend on content,
    except ScoreCAM's, which does not either: it runs one pass per
    channel)."""
    if faces < 1 or size < 8:
        raise ValueError(f'need faces >= 1 and size >= 8, got {faces}, '
                         f'{size}')
    rng = np.random.default_rng(seed)
    fakes, twins = [], []
    for _ in range(faces):
        real = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        fake = real.copy()
        q = size // 4
        fake[q:3 * q, q:3 * q] = 255 - fake[q:3 * q, q:3 * q]
        fakes.append(fake)
        twins.append(real)
    return fakes, twins


def amp_deviation(src: BaseMapSource, model, fakes: Sequence[np.ndarray],
                  twins: Optional[Sequence[np.ndarray]], batch_size: int,
                  amp: str) -> dict:
    """How far a source's maps under ``amp`` lie from its fp32 maps of the
    same crops: ``max_abs`` and ``mean_abs`` over all pixels (maps in
    [0, 1]; one PNG level is 1/255), and ``pixel_corr`` (Pearson, all
    pixels pooled)."""
    ref = np.stack(src.compute(fakes, twins=twins, model=model,
                               batch_size=batch_size))
    low = np.stack(src.compute(fakes, twins=twins, model=model,
                               batch_size=batch_size, amp=amp))
    diff = np.abs(low.astype(np.float64) - ref)
    a, b = ref.ravel(), low.ravel().astype(np.float64)
    corr = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 \
        else float('nan')
    return dict(amp=amp, max_abs=float(diff.max()),
                mean_abs=float(diff.mean()), pixel_corr=corr,
                faces=len(fakes))


def benchmark_map_sources(sources: Dict[str, Tuple[BaseMapSource, object]],
                          fakes: Sequence[np.ndarray],
                          twins: Optional[Sequence[np.ndarray]] = None,
                          batch_size: int = 16,
                          warmup: int = 1,
                          repeats: int = 3,
                          amp: Optional[str] = None,
                          device: str = 'cpu',
                          progress: Optional[str] = None) -> dict:
    """Faces/s of each map source on the same crops.

    Args:
        sources (dict): Label -> ``(source, model)`` (model None for the
            comparison sources), timed in this order.
        fakes (Sequence[np.ndarray]): BGR uint8 crops; every timed call
            maps all of them.
        twins (Sequence[np.ndarray], optional): Their real twins; required
            by the comparison sources.
        batch_size (int): Crops per forward pass (model sources).
        warmup (int): Untimed rounds. Defaults to 1.
        repeats (int): Timed rounds. Defaults to 3.
        amp (str, optional): ``'bf16'`` / ``'fp16'`` for the model
            sources; adds ``amp_deviation`` per model source (on the first
            batch). Defaults to None (fp32).
        device (str): Where the models run, for the synchronisation.
            Defaults to 'cpu'.
        progress (str, optional): A tqdm label. Defaults to None.

    Returns:
        dict: ``faces``, ``batch_size``, ``amp``, ``warmup``, ``repeats``
        and ``sources``: per label ``source`` (its registered name),
        ``model`` (class name or None), ``faces``, the
        :func:`summarize_times` keys (``median_s`` per call of all the
        faces, quartiles, ``times_s``), ``faces_s`` with ``faces_s_q1`` /
        ``faces_s_q3``, ``ms_per_face`` and, with ``amp``,
        ``amp_deviation``.
    """
    if not sources:
        raise ValueError('no map source to time')
    fakes = list(fakes)
    for label, (src, model) in sources.items():
        if src.needs_twin and (twins is None or len(twins) != len(fakes)):
            raise ValueError(f'{label}: source "{src.name}" needs the real '
                             'twin of every crop')
        if src.needs_model:
            src.check_model(model)

    def call(src, model):
        tw = twins if src.needs_twin else None
        amp_ = amp if src.needs_model else None
        return lambda: src.compute(fakes, twins=tw, model=model,
                                   batch_size=batch_size, amp=amp_)

    fns = {label: call(src, model)
           for label, (src, model) in sources.items()}
    times = interleaved_timings(fns, warmup=warmup, repeats=repeats,
                                sync=_sync_fn(device), progress=progress)
    out = dict(faces=len(fakes), batch_size=batch_size, amp=amp,
               warmup=warmup, repeats=repeats, sources={})
    for label, (src, model) in sources.items():
        s = summarize_times(times[label], images=len(fakes))
        res = dict(source=src.name,
                   model=type(model).__name__ if model is not None else None,
                   faces=len(fakes))
        res.update({k: v for k, v in s.items() if not k.startswith('img_s')})
        res.update(faces_s=s['img_s'], faces_s_q1=s['img_s_q1'],
                   faces_s_q3=s['img_s_q3'],
                   ms_per_face=1e3 * s['median_s'] / len(fakes))
        if amp and src.needs_model:  # (model sources take no twins)
            res['amp_deviation'] = amp_deviation(
                src, model, fakes[:batch_size], None, batch_size, amp)
        out['sources'][label] = res
    return out
