# Copyright (c) mmfocus contributors.
"""Computational complexity of several models measured side by side (the
paper's Table VIII): parameters, FLOPs (attention counted) and inference
throughput, all on one device in one run, with the same batch size and
precision.

Throughput uses the benchmark's inference step (preprocess + forward
under ``no_grad``, :func:`~mmfocus.analysis.benchmark.steps.
make_infer_step`) and its interleaved timing (A, B, C, A, B, C, ...), so a
slow moment of a shared machine hits every model alike; each model's
ratio to the baseline model is the median of the per-round ratios
(:func:`~mmfocus.analysis.benchmark.timing.paired_ratio`).

Example:
    >>> res = measure_complexity({'a': model_a, 'b': model_b},
    ...                          {'a': (224, 224), 'b': (299, 299)},
    ...                          batch_size=8, baseline='a')
    >>> res['models']['b']['infer']['img_s'], res['models']['b']['ratio']
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import nn

from .benchmark.environment import environment_info
from .benchmark.steps import AmpDtype, make_batch, make_infer_step
from .benchmark.timing import (_sync_fn, interleaved_timings, paired_ratio,
                               summarize_times)
from .flops import build_dummy_inputs, count_flops

__all__ = ['measure_complexity', 'complexity_markdown']


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device('cpu')


def measure_complexity(models: Dict[str, nn.Module],
                       shapes: Dict[str, Tuple[int, int]],
                       batch_size: int = 8,
                       amp_dtype: AmpDtype = None,
                       warmup: int = 1,
                       repeats: int = 5,
                       iters: int = 1,
                       baseline: Optional[str] = None,
                       throughput: bool = True,
                       progress: bool = False) -> dict:
    """Parameters, FLOPs and inference throughput of each model.

    Args:
        models (dict[str, BaseModel]): Name -> model, all on one device
            (their order is the table's order).
        shapes (dict[str, int | tuple[int, int]]): Name -> input ``(H, W)``
            (or ``S``, square).
        batch_size (int): Images per inference step (every model).
            Defaults to 8.
        amp_dtype (torch.dtype, optional): Autocast dtype of the timed
            steps (FLOPs are counted in float32). Defaults to None.
        warmup, repeats, iters (int): See :func:`~mmfocus.analysis.
            benchmark.timing.interleaved_timings`. Default to 1, 5, 1.
        baseline (str, optional): The model the others' throughput is
            compared with. Defaults to the first model.
        throughput (bool): Time the models (False: counts only).
            Defaults to True.
        progress (bool): Progress bars (FLOPs per model, then the timed
            rounds) on stderr. Defaults to False.

    Returns:
        dict: ``models``: ``{name: {'params', 'flops', 'flops_per_image',
        'input_shape', 'unsupported_ops', 'infer' (timing summary with
        ``img_s``), 'ratio' (throughput over the baseline's, with its
        quartiles)}}``; ``baseline``, ``batch_size``, ``amp_dtype``,
        ``environment``.

    Raises:
        ValueError: no models, a model without a shape, an unknown
            baseline, models on different devices or bad counts.
    """
    if not models:
        raise ValueError('no models to measure')
    missing = [n for n in models if n not in shapes]
    if missing:
        raise ValueError(f'no input shape for {missing}')
    shapes = {n: check_shape(shapes[n]) for n in models}
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    names = list(models)
    baseline = names[0] if baseline is None else baseline
    if baseline not in models:
        raise ValueError(f'baseline {baseline!r} is not one of {names}')
    devices = {str(_device_of(m)) for m in models.values()}
    if len(devices) != 1:
        raise ValueError(f'models are on different devices: {devices}')
    device = _device_of(models[names[0]])
    rows: Dict[str, dict] = {}
    from tqdm import tqdm
    for name in tqdm(names, desc='complexity FLOPs', unit='model',
                     disable=not progress, leave=False):
        model = models[name].eval()
        shape = shapes[name]
        with torch.no_grad():
            inputs = build_dummy_inputs(model, shape)
        counted = count_flops(model, inputs, by_module_depth=1)
        rows[name] = dict(
            params=int(sum(p.numel() for p in model.parameters())),
            flops=int(counted['flops']),
            flops_per_image=int(counted['flops']),  # dummy batch of 1
            input_shape=list(shape),
            unsupported_ops=counted.get('unsupported_ops', {}))
    if throughput:
        steps = {}
        for name in names:
            batch = make_batch(batch_size, shapes[name], seed=0)
            steps[name] = make_infer_step(models[name], batch, amp_dtype,
                                          'tensor')
        times = interleaved_timings(
            steps, warmup, repeats, iters, _sync_fn(device),
            progress='complexity throughput' if progress else None)
        for name in names:
            rows[name]['infer'] = summarize_times(times[name], batch_size)
            # throughput ratio = baseline seconds / model seconds
            r = paired_ratio(times[baseline], times[name])
            rows[name]['ratio'] = r
    return dict(models=rows, baseline=baseline, batch_size=batch_size,
                amp_dtype=None if amp_dtype is None else str(amp_dtype),
                environment=environment_info(device))


def _g(n: int) -> str:
    return f'{n / 1e9:.2f}'


def _m(n: int) -> str:
    return f'{n / 1e6:.2f}'


def complexity_markdown(result: dict,
                        configs: Optional[Dict[str, str]] = None,
                        published: Optional[Dict[str, str]] = None,
                        command: Optional[str] = None) -> str:
    """The Table VIII Markdown of :func:`measure_complexity`'s result.

    Args:
        result (dict): From :func:`measure_complexity`.
        configs (dict[str, str], optional): Name -> config path column.
        published (dict[str, str], optional): Name -> a published-count
            note (e.g. the timm backbone count the test checks).
        command (str, optional): The command that produced it.

    Returns:
        str: Markdown with the environment, the table and the notes.
    """
    env = result['environment']
    base = result['baseline']
    timed = any('infer' in r for r in result['models'].values())
    head = ['model', 'input', 'params (M)', 'GFLOPs / image']
    if timed:
        head += ['throughput (img/s) [IQR]', f'throughput vs {base}']
    if configs:
        head.insert(1, 'config')
    if published:
        head.append('published reference')
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '|'.join(['---'] * len(head)) + '|']
    for name, r in result['models'].items():
        cells = [name, 'x'.join(str(v) for v in r['input_shape']),
                 _m(r['params']), _g(r['flops_per_image'])]
        if timed:
            inf = r['infer']
            cells.append(f"{inf['img_s']:.1f} [{inf['img_s_q1']:.1f}, "
                         f"{inf['img_s_q3']:.1f}]")
            ratio = r['ratio']
            cells.append(f"{ratio['ratio']:.3f}" if name != base else '1')
        if configs:
            cells.insert(1, f'`{configs.get(name, "")}`')
        if published:
            cells.append(published.get(name, ''))
        lines.append('| ' + ' | '.join(cells) + ' |')
    precision = result.get('amp_dtype') or 'float32'
    dev = env.get('gpu') or env.get('cpu') or env['device']
    out = ['# Computational complexity (Table VIII)', '',
           f"Device: {env['device']} ({dev}), {env['cpus']} CPUs, "
           f"{env['torch_threads']} torch threads; torch {env['torch']}, "
           f"timm {env['timm']}, mmengine {env['mmengine']}, mmfocus "
           f"{env['mmfocus']}; {env['date']}.", '']
    if timed:
        n = next(iter(result['models'].values()))['infer']['n']
        out += [f'Inference (preprocess + forward, no_grad), batch '
                f"{result['batch_size']}, {precision}; all models timed "
                f'in turn in one run, {n} rounds: median images/s with the '
                'interquartile range; the ratio is the median of the '
                f'per-round ratios of {base}\'s step time to the '
                "model's (> 1: faster than the baseline).", '']
    out += lines + ['', 'FLOPs: multiply-adds of one image\'s forward pass '
                    '(fvcore, attention included; element-wise ops not '
                    'counted), in float32. Params: every parameter of the '
                    'model as built from its config (2-class heads).']
    unsupported: Dict[str, int] = {}
    for r in result['models'].values():
        for k, v in r.get('unsupported_ops', {}).items():
            unsupported[k] = unsupported.get(k, 0) + int(v)
    if unsupported:
        out += ['', 'Ops with FLOPs that were not counted: ' + ', '.join(
            f'{k} ({v})' for k, v in sorted(unsupported.items())) + '.']
    if command:
        out += ['', 'Command:', '', '```bash', command, '```']
    return '\n'.join(out) + '\n'


def check_shape(shape: Sequence[int]) -> Tuple[int, int]:
    """``S`` or ``(H, W)`` -> ``(H, W)`` (positive ints)."""
    if isinstance(shape, int):
        shape = (shape, shape)
    shape = tuple(int(v) for v in shape)
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f'input shape must be S or (H, W), got {shape}')
    return shape
