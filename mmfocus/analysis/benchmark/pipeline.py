# Copyright (c) mmfocus contributors.
"""The data pipeline alone: the config's train dataset (decode and
transforms) through a ``DataLoader`` with N workers, in images/s."""
import copy
import math
import os.path as osp
import statistics
import time
from typing import Callable, List, Optional

import numpy as np
import torch

from mmfocus.datasets.annotation import dump_annotation
from mmfocus.datasets.paired import flatten_samples
from mmfocus.datasets.shards import pack_annotation
from mmfocus.registry import DATASETS
from mmfocus.utils.io import atomic_write

__all__ = ['benchmark_data_pipeline', 'benchmark_shard_comparison',
           'workers_needed']


def _batch_len(batch) -> int:
    inputs = batch['inputs'] if isinstance(batch, dict) else batch
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0])
    return len(inputs)


def _flat_pseudo_collate(batch):
    """mmengine's ``pseudo_collate`` over the images of list-valued items
    (the ``[real, fake]`` pairs of ``paired_self_blend``)."""
    from mmengine.dataset import pseudo_collate

    return pseudo_collate(flatten_samples(batch))


def _worker_init(opencv_threads: Optional[int]):

    def init(_):
        torch.set_num_threads(1)
        if opencv_threads is not None:
            try:
                import cv2
                cv2.setNumThreads(opencv_threads)
            except ImportError:
                pass

    return init


def _dataset_or_skip(dataset_cfg: dict, samples: int):
    """``(dataset, None)``, or ``(None, skipped)``: the ``'skipped'``
    result of a measurement with no samples or a missing annotation."""
    if samples < 1:
        return None, dict(status='skipped', reason='--data-samples 0')
    try:
        return DATASETS.build(copy.deepcopy(dataset_cfg)), None
    except FileNotFoundError as e:
        return None, dict(status='skipped', reason=str(e))


def benchmark_data_pipeline(dataset_cfg: dict,
                            batch_size: int,
                            workers: int,
                            samples: int,
                            collate_fn: Optional[Callable] = None,
                            pin_memory: bool = False,
                            opencv_threads: Optional[int] = 0,
                            seed: int = 0) -> dict:
    """The dataset's pipeline (decode + transforms) through a DataLoader.

    ``samples`` indices (a seeded shuffle of the dataset, repeated if it is
    smaller) are loaded in batches by ``workers`` worker processes (0: the
    main process). The rate is taken after the first batch arrives, so the
    worker start-up is excluded (it is reported as ``startup_s``).

    Args:
        dataset_cfg (dict): The config's ``train_dataloader.dataset``.
        batch_size (int): Images per batch.
        workers (int): DataLoader workers.
        samples (int): Images to load.
        collate_fn (callable, optional): Defaults to ``pseudo_collate``
            over the images of each item (a ``[real, fake]`` pair counts
            as two images).
        pin_memory (bool): Defaults to False.
        opencv_threads (int, optional): ``cv2.setNumThreads`` in each
            worker (the config's ``env_cfg.mp_cfg.opencv_num_threads``).
            Defaults to 0.
        seed (int): Defaults to 0.

    Returns:
        dict: ``status`` ``'measured'`` with ``img_s``,
        ``img_s_per_worker``, ``startup_s``, ``images``, ``dataset_size``,
        ``ann_file``; or ``'skipped'`` with ``reason`` (the annotation file
        is missing).
    """
    from torch.utils.data import DataLoader

    if workers < 0:
        raise ValueError(f'workers must be >= 0, got {workers}')
    dataset, skipped = _dataset_or_skip(dataset_cfg, samples)
    if skipped:
        return skipped
    n = len(dataset)
    order = np.random.default_rng(seed).permutation(n)
    indices = [int(order[i % n]) for i in range(samples)]
    loader = DataLoader(dataset, batch_size=batch_size, sampler=indices,
                        num_workers=workers,
                        collate_fn=collate_fn or _flat_pseudo_collate,
                        pin_memory=pin_memory,
                        worker_init_fn=_worker_init(opencv_threads)
                        if workers else None)
    t0 = time.perf_counter()
    it = iter(loader)
    first = _batch_len(next(it))
    t1 = time.perf_counter()
    rest = 0
    for batch in it:
        rest += _batch_len(batch)
    t2 = time.perf_counter()
    del it
    if rest:
        img_s, note = rest / (t2 - t1), 'after the first batch'
    else:
        img_s, note = first / (t1 - t0), 'one batch only: start-up included'
    return dict(status='measured', img_s=img_s,
                img_s_per_worker=img_s / max(workers, 1), workers=workers,
                images=first + rest, batch_size=batch_size,
                startup_s=t1 - t0, rate_note=note, dataset_size=n,
                ann_file=getattr(dataset, 'ann_file', None))


def workers_needed(img_s: Optional[float],
                   per_worker: Optional[float]) -> Optional[int]:
    """Workers whose combined rate covers ``img_s`` (ceil, at least 1)."""
    if not img_s or not per_worker or per_worker <= 0:
        return None
    return max(1, math.ceil(img_s / per_worker - 1e-9))


_SHARD_KEYS = ('img_shard', 'img_shard_index', 'mask_shard',
               'mask_shard_index')


def _subset_annotation(dataset, indices: List[int], path: str) -> None:
    """The dataset's entries ``indices`` as an annotation file with
    absolute paths (shard references dropped: it is the PNG side)."""
    entries = []
    for i in indices:
        info = dataset.get_data_info(i)
        info.pop('sample_idx', None)
        for key in _SHARD_KEYS:
            info.pop(key, None)
        for key in ('img_path', 'mask_path', 'pair_path'):
            if info.get(key):
                info[key] = osp.abspath(info[key])
        entries.append(info)
    meta = {k: v for k, v in dataset.metainfo.items()
            if k not in ('data_root', 'shards')}
    meta['classes'] = list(meta.get('classes', ()))
    atomic_write(path, dump_annotation(meta, entries).encode())


def _load_seconds(dataset) -> float:
    """Seconds per image of ``LoadFace`` + ``LoadManipulationMask`` alone,
    in this process, over every entry of ``dataset`` once."""
    from mmfocus.datasets.transforms import LoadFace, LoadManipulationMask
    load, mask = LoadFace(), LoadManipulationMask()
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    t0 = time.perf_counter()
    for info in infos:
        mask(load(info))
    return (time.perf_counter() - t0) / max(len(infos), 1)


def benchmark_shard_comparison(dataset_cfg: dict,
                               batch_size: int,
                               workers: int,
                               samples: int,
                               work_dir: str,
                               rounds: int = 3,
                               **kwargs) -> dict:
    """The same pipeline reading PNG files and reading packed shards.

    The first ``min(samples, len(dataset))`` entries of a seeded shuffle of
    the dataset are written as an annotation (absolute paths) and packed
    (:func:`~mmfocus.datasets.shards.pack_annotation`) under ``work_dir``;
    :func:`benchmark_data_pipeline` then loads ``samples`` images of each,
    alternating PNG, shards, PNG, ... ``rounds`` times (a slow moment of a
    shared machine hits both), and the loading transforms alone
    (``LoadFace`` + ``LoadManipulationMask``) are timed in this process.

    Args:
        dataset_cfg (dict): The config's ``train_dataloader.dataset``.
        batch_size (int): Images per batch.
        workers (int): DataLoader workers.
        samples (int): Images per measurement.
        work_dir (str): A folder for the subset and its shards.
        rounds (int): Measurements of each. Defaults to 3.
        **kwargs: ``collate_fn``, ``pin_memory``, ``opencv_threads``,
            ``seed`` of :func:`benchmark_data_pipeline`.

    Returns:
        dict: ``status`` ``'measured'`` with ``png`` / ``shards`` (the
        median round of each, plus ``img_s_rounds`` and
        ``load_ms_per_img``: the loading transforms alone), ``ratio``
        (shard / PNG images/s), ``time_saved`` (the fraction of the
        pipeline's time per image the shards save), ``pack`` (the pack
        summary); or ``'skipped'`` with ``reason``.
    """
    if rounds < 1:
        raise ValueError(f'rounds must be >= 1, got {rounds}')
    dataset, skipped = _dataset_or_skip(dataset_cfg, samples)
    if skipped:
        return skipped
    seed = kwargs.get('seed', 0)
    order = np.random.default_rng(seed).permutation(len(dataset))
    png_ann = osp.join(work_dir, 'subset.json')
    _subset_annotation(dataset, [int(i) for i in order[:samples]], png_ann)
    pack = pack_annotation(png_ann, osp.join(work_dir, 'packed'))
    cfgs = dict(
        png=dict(copy.deepcopy(dataset_cfg), ann_file=png_ann, data_root='',
                 data_prefix=dict(img='')),
        shards=dict(copy.deepcopy(dataset_cfg), ann_file=pack['ann_file'],
                    data_root=osp.dirname(pack['ann_file']),
                    data_prefix=dict(img='')))
    runs = {name: [] for name in cfgs}
    for _ in range(rounds):
        for name, cfg in cfgs.items():
            runs[name].append(benchmark_data_pipeline(
                cfg, batch_size, workers, samples, **kwargs))
    out = dict(status='measured', workers=workers, rounds=rounds,
               subset=len(order[:samples]),
               pack=dict(pack, bytes_per_item=pack['bytes'] / max(
                   pack['faces'] + pack['masks'], 1)))
    for name, res in runs.items():
        rates = [r['img_s'] for r in res]
        mid = sorted(res, key=lambda r: r['img_s'])[(len(res) - 1) // 2]
        mid = dict(mid, img_s=statistics.median(rates),
                   img_s_per_worker=statistics.median(rates) / max(workers, 1),
                   img_s_rounds=rates)
        mid['load_ms_per_img'] = 1e3 * _load_seconds(
            DATASETS.build(copy.deepcopy(cfgs[name])))
        out[name] = mid
    out['ratio'] = out['shards']['img_s'] / out['png']['img_s']
    out['time_saved'] = 1. - out['png']['img_s'] / out['shards']['img_s']
    return out
