# Copyright (c) mmfocus contributors.
"""The device-side benchmarks: the train and inference steps of a model
and its reference, interleaved (plus their memory), and the data
preprocessor with its modality filters alone."""
from typing import Any, Dict, List

import torch
from torch import nn

from .memory import measure_memory
from .steps import (AmpDtype, _autocast, make_infer_step, make_train_step)
from .timing import (_sync_fn, interleaved_timings, paired_ratio,
                     summarize_times)

__all__ = ['benchmark_models', 'benchmark_preprocessor']


def benchmark_models(models: Dict[str, nn.Module],
                     optim_wrappers: Dict[str, Any],
                     batch: dict,
                     batch_size: int,
                     amp_dtype: AmpDtype = None,
                     warmup: int = 1,
                     repeats: int = 5,
                     iters: int = 1,
                     infer_mode: str = 'tensor',
                     train: bool = True,
                     infer: bool = True,
                     memory: bool = True,
                     progress: bool = False) -> dict:
    """Train-step and inference timings of models, interleaved, and memory.

    Args:
        models (dict[str, BaseModel]): ``{'model': m, 'reference': r}``
            (the reference is optional); all on the same device.
        optim_wrappers (dict[str, OptimWrapper]): One per model.
        batch (dict): A collated batch on the host.
        batch_size (int): Images per batch.
        amp_dtype (torch.dtype, optional): Autocast dtype. Defaults to None.
        warmup, repeats, iters (int): See :func:`interleaved_timings`.
        infer_mode (str): See :func:`make_infer_step`.
        train, infer, memory (bool): Parts to run. Default to True.
        progress (bool): A progress bar per phase. Defaults to False.

    Returns:
        dict: ``train`` and ``infer``, each ``{name: summary}`` (see
        :func:`summarize_times`) plus ``ratio`` (:func:`paired_ratio` of
        ``model`` over ``reference``, when both exist); ``memory``
        (:func:`measure_memory`) when ``memory``
        ``{'method', 'train': {name: MiB dict}, 'infer': ...}``.
    """
    device = next(models['model'].parameters()).device
    sync = _sync_fn(device)
    out: Dict[str, Any] = {}
    names = list(models)
    train_steps = {n: make_train_step(models[n], optim_wrappers[n], batch,
                                      amp_dtype) for n in names}
    infer_steps = {n: make_infer_step(models[n], batch, amp_dtype,
                                      infer_mode) for n in names}
    phases = []
    if train:
        phases.append(('train', train_steps, True))
    if infer:
        phases.append(('infer', infer_steps, False))
    for phase, steps, training in phases:
        for m in models.values():
            m.train(training)
        times = interleaved_timings(steps, warmup, repeats, iters, sync,
                                    progress=f'benchmark {phase}'
                                    if progress else None)
        res = {n: summarize_times(times[n], batch_size) for n in names}
        if 'reference' in times:
            res['ratio'] = paired_ratio(times['model'], times['reference'])
        out[phase] = res
    for m in models.values():
        m.train(True)
    if memory:
        out['memory'] = measure_memory(models, optim_wrappers, batch,
                                       amp_dtype, infer_mode, train, infer)
    return out


def benchmark_preprocessor(preprocessor: nn.Module,
                           batch: dict,
                           batch_size: int,
                           amp_dtype: AmpDtype = None,
                           warmup: int = 2,
                           repeats: int = 10) -> dict:
    """The data preprocessor, and its modality filters alone, on its device.

    Args:
        preprocessor (nn.Module): E.g. ``FoCusDataPreprocessor``.
        batch (dict): A collated host batch (:func:`make_batch`).
        batch_size (int): Images per batch.
        amp_dtype (torch.dtype, optional): Autocast dtype. Defaults to None.
        warmup (int): Defaults to 2.
        repeats (int): Defaults to 10.

    Returns:
        dict: ``preprocessor`` (H2D copy, stack, normalise, filters) and
        ``filters`` (each ``ModalityFilter`` on a device batch already in
        float) summaries with ``img_s``; ``filters`` is None when the
        preprocessor has none.
    """
    device = getattr(preprocessor, '_device', None)  # mmengine's
    if device is None:
        device = next(iter(preprocessor.buffers()), torch.empty(0)).device
    device = torch.device(device)
    sync = _sync_fn(device)

    def full():
        with torch.no_grad(), _autocast(device, amp_dtype):
            return preprocessor(batch, True)

    fns = {'preprocessor': full}
    filters = getattr(preprocessor, 'filters', None)
    names: List[str] = []
    if isinstance(filters, nn.ModuleDict) and len(filters):
        inputs = batch['inputs']
        x = torch.stack(list(inputs)) if isinstance(inputs, (list, tuple)) \
            else inputs
        x = x.to(device).float()
        names = list(filters)

        def only_filters():
            with torch.no_grad(), _autocast(device, amp_dtype):
                return [filters[n](x) for n in names]

        fns['filters'] = only_filters
    times = interleaved_timings(fns, warmup, repeats, 1, sync)
    res = dict(device=str(device),
               preprocessor=summarize_times(times['preprocessor'],
                                            batch_size),
               filters=None, filter_names=names)
    if 'filters' in times:
        res['filters'] = summarize_times(times['filters'], batch_size)
    return res
