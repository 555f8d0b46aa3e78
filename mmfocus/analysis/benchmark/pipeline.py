# Copyright (c) mmfocus contributors.
"""The data pipeline alone: the config's train dataset (decode and
transforms) through a ``DataLoader`` with N workers, in images/s."""
import copy
import math
import time
from typing import Callable, Optional

import numpy as np
import torch

from mmfocus.datasets.paired import flatten_samples
from mmfocus.registry import DATASETS

__all__ = ['benchmark_data_pipeline', 'workers_needed']


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

    if samples < 1:
        return dict(status='skipped', reason='--data-samples 0')
    if workers < 0:
        raise ValueError(f'workers must be >= 0, got {workers}')
    try:
        dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
    except FileNotFoundError as e:
        return dict(status='skipped', reason=str(e))
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
