# Copyright (c) mmfocus contributors.
"""AUC under the DeeperForensics-1.0 perturbations (the paper's Table IV).

For each perturbation type and level, the config's test set is evaluated
with ``DeeperForensicsPerturbation``
(:mod:`mmfocus.datasets.transforms.perturbations`) inserted right after
``LoadFace`` in the test pipeline, scored with ``ForgeryMetric``; a clean
(unperturbed) run is the reference. :func:`run_robustness` writes
``robustness.json``, ``robustness.md`` and ``robustness.png`` to the out
dir; ``tools/analysis/robustness.py`` is its command line.

Example:
    >>> from mmfocus.experiments.robustness import run_robustness
    >>> summary = run_robustness(
    ...     'configs/focus/vit-demo_demo-sbi.py',
    ...     'checkpoints/focus_vit-demo_demo-sbi.pth',
    ...     types=['blur', 'noise'], levels=[1, 3],
    ...     out_dir='work_dirs/robust')
    >>> summary['mean_auc']  # mean over the types of their mean AUC
"""
import copy
import io
import math
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner

from mmfocus.apis.inference import init_model
from mmfocus.apis.runner import load_config
from mmfocus.datasets.transforms.perturbations import (
    PERTURBATION_PARAMS, PERTURBATION_TYPES, resolve_compression_backend)
from mmfocus.evaluation import ForgeryMetric
from mmfocus.utils import register_all_modules
from mmfocus.utils.checkpoint import load_checkpoint_file
from mmfocus.utils.config import merge_cfg_options, parse_cfg_options
from mmfocus.utils.io import atomic_write, atomic_write_json

OUT_FILES = ('robustness.json', 'robustness.md', 'robustness.png')
TYPE_TITLES = dict(saturation='Saturation', contrast='Contrast',
                   block='Block', noise='Noise', blur='Blur',
                   pixelation='Pixel', compression='Compress')
LEVELS = (1, 2, 3, 4, 5)


def _print(msg: str) -> None:
    print(msg, flush=True)


def perturbed_dataloader_cfg(cfg, perturbation=None) -> dict:
    """The config's ``test_dataloader`` with ``perturbation`` after LoadFace.

    Raises:
        KeyError: no single ``test_dataloader.dataset.pipeline`` holding a
            ``LoadFace`` step.
    """
    dl = cfg.get('test_dataloader')
    if not dl or not isinstance(dl.get('dataset'), dict) or \
            'pipeline' not in dl['dataset']:
        raise KeyError('the config needs test_dataloader.dataset.pipeline '
                       '(one test set) for the robustness study')
    dl = copy.deepcopy(dl.to_dict() if hasattr(dl, 'to_dict') else dl)
    pipeline = list(dl['dataset']['pipeline'])
    idx = [i for i, t in enumerate(pipeline)
           if str(t.get('type', '')).split('.')[-1] == 'LoadFace']
    if not idx:
        raise KeyError('test_dataloader.dataset.pipeline has no LoadFace '
                       'step to insert the perturbation after')
    if perturbation is not None:
        pipeline.insert(idx[0] + 1, perturbation)
    dl['dataset']['pipeline'] = pipeline
    return dl


def perturbation_step(kind: str, level: int, seed: int = 0,
                      compression_backend: Optional[str] = None) -> dict:
    """The ``DeeperForensicsPerturbation`` pipeline step of one type and
    level (``compression_backend`` None: ``'auto'``)."""
    return dict(type='DeeperForensicsPerturbation', kind=kind, level=level,
                seed=seed, compression_backend=compression_backend or 'auto')


def evaluate_auc(model, dataloader_cfg: dict) -> float:
    """ROC AUC (percent) of ``model`` on one test dataloader config."""
    loader = Runner.build_dataloader(dataloader_cfg)
    evaluator = Evaluator(ForgeryMetric(video_level=False))
    evaluator.dataset_meta = getattr(loader.dataset, 'metainfo', None)
    with torch.no_grad():
        for batch in loader:
            outputs = model.test_step(batch)
            evaluator.process(data_samples=outputs, data_batch=batch)
    metrics = evaluator.evaluate(len(loader.dataset))
    return float(metrics['forgery/auc'])


def _fmt(x: float) -> str:
    return 'nan' if x is None or not math.isfinite(x) else f'{x:.2f}'


def evaluate_robustness(model, cfg, types: Sequence[str],
                        levels: Sequence[int], seed: int = 0,
                        compression_backend: Optional[str] = None,
                        log: Callable[[str], None] = _print,
                        progress: bool = True
                        ) -> Tuple[float, Dict[str, Dict[int, float]]]:
    """The clean AUC and the AUC of every type and level.

    Args:
        model: A built model (:func:`mmfocus.apis.init_model`).
        cfg (Config): Its config (``test_dataloader`` is evaluated).
        types (Sequence[str]): Perturbation types, in table order.
        levels (Sequence[int]): Levels, 1-5.
        seed (int): Seed of the random blocks and noise. Defaults to 0.
        compression_backend (str, optional): A resolved backend
            (:func:`resolve_compression_backend`). Defaults to None
            (``'auto'``).
        log (callable): Where a line per result goes. Defaults to print.
        progress (bool): A progress bar over the ``1 + types x levels``
            test passes on stderr, with its rate and ETA. Defaults to True.

    Returns:
        tuple: ``(clean_auc, {type: {level: auc}})``, AUCs in percent.
    """
    from tqdm import tqdm
    bar = tqdm(total=1 + len(types) * len(levels), desc='robustness',
               unit='test', disable=not progress, dynamic_ncols=True)
    try:
        bar.set_postfix_str('clean')
        clean = evaluate_auc(model, perturbed_dataloader_cfg(cfg))
        bar.update()
        log(f'clean: AUC {_fmt(clean)}')
        aucs = {}
        for t in types:
            aucs[t] = {}
            for lv in levels:
                bar.set_postfix_str(f'{t} {lv}')
                step = perturbation_step(t, lv, seed, compression_backend)
                aucs[t][lv] = evaluate_auc(
                    model, perturbed_dataloader_cfg(cfg, step))
                bar.update()
                log(f'{t} level {lv}: AUC {_fmt(aucs[t][lv])}')
    finally:
        bar.close()
    return clean, aucs


def summarise(clean: float, aucs: dict, levels) -> dict:
    """JSON-ready results: AUC per level, mean per type, overall mean."""
    per_type = {}
    for t, by_level in aucs.items():
        vals = [by_level[lv] for lv in levels]
        per_type[t] = dict(
            params={str(lv): PERTURBATION_PARAMS[t][lv - 1] for lv in levels},
            auc={str(lv): by_level[lv] for lv in levels},
            mean_auc=float(sum(vals) / len(vals)))
    means = [v['mean_auc'] for v in per_type.values()]
    return dict(clean_auc=clean, levels=list(levels), types=per_type,
                mean_auc=float(sum(means) / len(means)) if means else None)


def to_markdown(summary: dict, meta: dict) -> str:
    """Two tables: AUC per type and level, and the Table IV row."""
    levels = summary['levels']
    types = summary['types']
    lines = [f"# Robustness: {meta['config']}", '',
             f"Checkpoint `{meta['checkpoint']}`; DeeperForensics-1.0 "
             f"perturbations; AUC (%) with `ForgeryMetric`; seed "
             f"{meta['seed']}."]
    if meta.get('compression_backend'):
        lines.append(f"Compression backend: {meta['compression_backend']}"
                     + (' (JPEG stand-in for the CRF, see docs/en/user_guides'
                        '/robustness.md)' if meta['compression_backend'] ==
                        'jpeg' else ' (H.264 round trip)') + '.')
    lines += ['', '## AUC per level', '',
              '| Type | ' + ' | '.join(f'L{lv}' for lv in levels) +
              ' | Mean |',
              '|---|' + '---:|' * (len(levels) + 1),
              '| Clean | ' + ' | '.join(
                  _fmt(summary['clean_auc']) for _ in levels) + ' | ' +
              _fmt(summary['clean_auc']) + ' |']
    for t, v in types.items():
        lines.append(f'| {TYPE_TITLES[t]} | ' + ' | '.join(
            _fmt(v['auc'][str(lv)]) for lv in levels) + ' | ' +
            _fmt(v['mean_auc']) + ' |')
    lines += ['', '## Mean AUC per type (Table IV layout)', '',
              '| Clean | ' + ' | '.join(TYPE_TITLES[t] for t in types) +
              ' | Avg |',
              '|' + '---:|' * (len(types) + 2),
              f"| {_fmt(summary['clean_auc'])} | " + ' | '.join(
                  _fmt(v['mean_auc']) for v in types.values()) +
              f" | {_fmt(summary['mean_auc'])} |", '']
    return '\n'.join(lines)


def plot(summary: dict, path: str) -> None:
    """AUC vs level per type, the clean AUC as a dashed line (PNG).

    Drawn with matplotlib's object API (``Figure`` + the Agg canvas, no
    ``pyplot``): headless, no global backend switch.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    levels = summary['levels']
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for t, v in summary['types'].items():
        ax.plot(levels, [v['auc'][str(lv)] for lv in levels], marker='o',
                label=TYPE_TITLES[t])
    ax.axhline(summary['clean_auc'], color='k', ls='--', lw=1,
               label='Clean')
    ax.set_xticks(levels)
    ax.set_xlabel('perturbation level')
    ax.set_ylabel('AUC (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='best')
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png')
    atomic_write(path, buf.getvalue())


def default_out_dir(config: str) -> str:
    """``work_dirs/robustness/<config name>``."""
    return osp.join('work_dirs', 'robustness',
                    osp.splitext(osp.basename(config))[0])


def output_paths(out_dir: str, overwrite: bool = False) -> List[str]:
    """The result files in ``out_dir`` (JSON, Markdown, PNG).

    Raises:
        FileExistsError: one exists and not ``overwrite``.
    """
    paths = [osp.join(out_dir, n) for n in OUT_FILES]
    existing = [p for p in paths if osp.exists(p)]
    if existing and not overwrite:
        raise FileExistsError(f'result file exists: {existing[0]} (pass '
                              '--overwrite to replace it)')
    return paths


def write_results(summary: dict, meta: dict, out_dir: str) -> List[str]:
    """Write ``robustness.{json,md,png}`` (replacing them); return the
    paths."""
    paths = [osp.join(out_dir, n) for n in OUT_FILES]
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(paths[0], dict(meta, **summary), overwrite=True)
    atomic_write(paths[1], to_markdown(summary, meta).encode('utf-8'),
                 overwrite=True)
    plot(summary, paths[2])
    return paths


def _config(config: Union[str, Config], cfg_options: Optional[Sequence[str]],
            allow_new_keys: bool) -> Tuple[Config, str]:
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
        merge_cfg_options(cfg, parse_cfg_options(cfg_options),
                          allow_new=allow_new_keys)
        return cfg, cfg.filename or '<config>'
    return load_config(config, cfg_options, allow_new_keys), config


def run_robustness(config: Union[str, Config],
                   checkpoint: str,
                   types: Sequence[str] = PERTURBATION_TYPES,
                   levels: Sequence[int] = LEVELS,
                   out_dir: Optional[str] = None,
                   overwrite: bool = False,
                   seed: int = 0,
                   compression_backend: str = 'auto',
                   device: Optional[str] = None,
                   cfg_options: Optional[Sequence[str]] = None,
                   allow_new_keys: bool = False,
                   log: Callable[[str], None] = _print,
                   progress: bool = True) -> dict:
    """The whole study: evaluate, then write the table and the plot.

    Args:
        config (str | Config): The test config (a path, or a Config).
        checkpoint (str): The checkpoint (a local path).
        types (Sequence[str]): Perturbation types (duplicates dropped).
            Defaults to all 7.
        levels (Sequence[int]): Levels 1-5 (sorted, duplicates dropped).
            Defaults to all 5.
        out_dir (str, optional): Where ``robustness.{json,md,png}`` go.
            Defaults to ``work_dirs/robustness/<config name>``.
        overwrite (bool): Replace existing result files. Defaults to False.
        seed (int): Seed of the random blocks and noise (per image).
            Defaults to 0.
        compression_backend (str): ``'auto'``, ``'pyav'``, ``'ffmpeg'`` or
            ``'jpeg'`` (:func:`resolve_compression_backend`; used when
            ``compression`` is among the types). Defaults to ``'auto'``.
        device (str, optional): Defaults to cuda when available, else cpu.
        cfg_options (Sequence[str], optional): ``KEY=VALUE`` overrides,
            strict like ``--cfg-options``.
        allow_new_keys (bool): Let ``cfg_options`` add keys.
        log (callable): Where the progress lines, the Markdown table and
            the written paths go. Defaults to print.
        progress (bool): The progress bar of :func:`evaluate_robustness`.
            Defaults to True.

    Returns:
        dict: The summary (:func:`summarise`), as in ``robustness.json``
        without its ``config``/``checkpoint``/``seed``/backend fields.

    Raises:
        FileExistsError: a result file exists and not ``overwrite``.
        KeyError: the config has no single test pipeline with LoadFace.
    """
    load_checkpoint_file(checkpoint)  # clear error before any work
    cfg, config_name = _config(config, cfg_options, allow_new_keys)
    out_dir = out_dir or default_out_dir(config_name)
    output_paths(out_dir, overwrite)
    types = list(dict.fromkeys(types))
    levels = sorted(set(levels))
    backend = None
    if 'compression' in types:
        backend = resolve_compression_backend(compression_backend)
    perturbed_dataloader_cfg(cfg)  # clear error before the model is built

    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    register_all_modules(init_default_scope=True)
    model = init_model(cfg, checkpoint, device=device)

    clean, aucs = evaluate_robustness(model, cfg, types, levels, seed=seed,
                                      compression_backend=backend, log=log,
                                      progress=progress)
    summary = summarise(clean, aucs, levels)
    meta = dict(config=config_name, checkpoint=checkpoint, seed=seed,
                compression_backend=backend)
    paths = write_results(summary, meta, out_dir)
    log(to_markdown(summary, meta))
    log(f'wrote {", ".join(paths)}')
    return summary


__all__ = [
    'OUT_FILES', 'TYPE_TITLES', 'perturbed_dataloader_cfg',
    'perturbation_step', 'evaluate_auc', 'evaluate_robustness', 'summarise',
    'to_markdown', 'plot', 'default_out_dir', 'output_paths',
    'write_results', 'run_robustness'
]
