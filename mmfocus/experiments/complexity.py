# Copyright (c) mmfocus contributors.
"""The complexity table (Table VIII) from a spec of configs:
``tools/analysis/complexity.py`` is its command line.

A spec is a Python config with

- ``models``: a list of ``dict(name=..., config=..., shape=None,
  cfg_options=None, published=None)``: ``shape`` (S or (H, W)) defaults to
  the ``ResizeFace`` scale of the config's test pipeline (else the
  model's own, e.g. a ViT's ``img_size``, else 224); ``published`` is a
  note printed beside the row (e.g. the published backbone count a test
  checks);
- optional ``baseline`` (a name; defaults to the first), ``batch_size``
  (8), ``work_dir``.

Every model is built with random weights (no checkpoint: the counts and
the speed do not depend on the weights).

Example:
    >>> from mmfocus.experiments.complexity import run_complexity
    >>> res = run_complexity('configs/experiments/complexity_demo.py',
    ...                      out_dir='work_dirs/complexity_demo')
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config

from mmfocus.analysis.benchmark.steps import AmpDtype
from mmfocus.analysis.complexity import (check_shape, complexity_markdown,
                                         measure_complexity)
from mmfocus.analysis.flops import infer_input_shape
from mmfocus.apis.inference import config_input_size, init_model
from mmfocus.apis.runner import load_config
from mmfocus.utils import register_all_modules
from mmfocus.utils.config_index import find_config
from mmfocus.utils.io import atomic_write, atomic_write_json

__all__ = ['load_complexity_spec', 'run_complexity']

_ENTRY_KEYS = {'name', 'config', 'shape', 'cfg_options', 'published'}


def _config_exists(name: str) -> bool:
    try:
        find_config(name)
        return True
    except FileNotFoundError:
        return False


def load_complexity_spec(spec: Union[str, dict, Config]) -> dict:
    """Read and check a complexity spec (see the module docstring).

    Raises:
        FileNotFoundError: the spec is missing.
        ValueError: a malformed entry, duplicate names or an unknown
            baseline.
    """
    if isinstance(spec, str):
        try:
            spec = find_config(spec)  # a file, or a shipped spec by name
        except FileNotFoundError:
            raise FileNotFoundError(
                f'complexity spec not found: {spec}') from None
        spec = Config.fromfile(spec)
    spec = dict(spec)
    models = spec.get('models')
    if not models:
        raise ValueError('the spec lists no "models"')
    names = []
    for i, entry in enumerate(models):
        if not isinstance(entry, dict) or 'name' not in entry or \
                'config' not in entry:
            raise ValueError(f'models[{i}] needs "name" and "config", got '
                             f'{entry!r}')
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise ValueError(f'models[{i}] ({entry["name"]}): unknown keys '
                             f'{sorted(unknown)}; allowed: '
                             f'{sorted(_ENTRY_KEYS)}')
        if entry.get('shape') is not None:
            check_shape(entry['shape'])
        names.append(entry['name'])
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'duplicate model names in the spec: {dup}')
    baseline = spec.get('baseline', names[0])
    if baseline not in names:
        raise ValueError(f'baseline {baseline!r} is not one of {names}')
    spec['baseline'] = baseline
    spec['models'] = [dict(e) for e in models]
    return spec


def _select(models: List[dict], only: Optional[Sequence[str]]) -> List[dict]:
    if not only:
        return models
    names = [m['name'] for m in models]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ValueError(f'--only: {unknown} not in the spec ({names})')
    return [m for m in models if m['name'] in only]


def run_complexity(spec: Union[str, dict, Config],
                   out_dir: Optional[str] = None,
                   device: str = 'cpu',
                   batch_size: Optional[int] = None,
                   amp_dtype: AmpDtype = None,
                   warmup: int = 1,
                   repeats: int = 5,
                   only: Optional[Sequence[str]] = None,
                   throughput: bool = True,
                   overwrite: bool = False,
                   command: Optional[str] = None,
                   progress: bool = False) -> dict:
    """Build every model of the spec and measure them in one run.

    Writes ``complexity.json`` and ``complexity.md`` (atomically) to
    ``out_dir`` (the spec's ``work_dir`` when None); existing files are
    refused unless ``overwrite``. ``progress`` shows progress bars.

    Returns:
        dict: :func:`~mmfocus.analysis.complexity.measure_complexity`'s
        result plus ``configs``, ``published`` and the output paths.

    Raises:
        FileExistsError: outputs exist and ``overwrite`` is False.
        FileNotFoundError: a config of the measured models is missing.
    """
    spec = load_complexity_spec(spec)
    out_dir = out_dir or spec.get('work_dir') or 'work_dirs/complexity'
    outs = {k: osp.join(out_dir, f'complexity.{k}') for k in ('json', 'md')}
    existing = [p for p in outs.values() if osp.exists(p)]
    if existing and not overwrite:
        raise FileExistsError(f'{existing} exist; pass --force to replace '
                              'them')
    entries = _select(spec['models'], only)
    missing = [f'{e["name"]}: {e["config"]}' for e in entries
               if not _config_exists(e['config'])]
    if missing:
        raise FileNotFoundError(f'config not found: {missing}')
    baseline = spec['baseline']
    if baseline not in [e['name'] for e in entries]:
        baseline = entries[0]['name']
    register_all_modules(init_default_scope=True)
    models: Dict[str, torch.nn.Module] = {}
    shapes: Dict[str, Tuple[int, int]] = {}
    for e in entries:
        cfg = load_config(e['config'], e.get('cfg_options'))
        model = init_model(cfg, None, device=device)
        shape = e.get('shape')
        shape = check_shape(shape) if shape is not None else (
            config_input_size(cfg) or infer_input_shape(model))
        models[e['name']], shapes[e['name']] = model, shape
    result = measure_complexity(
        models, shapes, batch_size=batch_size or spec.get('batch_size', 8),
        amp_dtype=amp_dtype, warmup=warmup, repeats=repeats,
        baseline=baseline, throughput=throughput, progress=progress)
    result['configs'] = {e['name']: e['config'] for e in entries}
    result['published'] = {e['name']: e['published'] for e in entries
                           if e.get('published')}
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(outs['json'], result)
    atomic_write(outs['md'], complexity_markdown(
        result, result['configs'], result['published'] or None,
        command).encode('utf-8'))
    result['outputs'] = outs
    return result
