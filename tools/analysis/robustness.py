# Copyright (c) mmfocus contributors.
"""AUC under the DeeperForensics-1.0 perturbations (the paper's Table IV).

For each perturbation type and level, the config's test set is evaluated
with ``DeeperForensicsPerturbation``
(:mod:`mmfocus.datasets.transforms.perturbations`) inserted right after
``LoadFace`` in the test pipeline, scored with ``ForgeryMetric``; a clean
(unperturbed) run is the reference. Writes ``robustness.json``,
``robustness.md`` and ``robustness.png`` to the out dir.

Example:
    python tools/analysis/robustness.py configs/focus/vit-demo_demo-sbi.py \
        checkpoints/focus_vit-demo_demo-sbi.pth --out-dir work_dirs/robust
"""
import argparse
import copy
import math
import os
import os.path as osp

from mmfocus.datasets.transforms.perturbations import (
    PERTURBATION_PARAMS, PERTURBATION_TYPES, resolve_compression_backend)
from mmfocus.utils.cli import cli_main

OUT_FILES = ('robustness.json', 'robustness.md', 'robustness.png')
TYPE_TITLES = dict(saturation='Saturation', contrast='Contrast',
                   block='Block', noise='Noise', blur='Blur',
                   pixelation='Pixel', compression='Compress')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Evaluate a model under the DeeperForensics-1.0 '
        'perturbations (AUC per type and level, Table IV)')
    p.add_argument('config', help='test config file path')
    p.add_argument('checkpoint', help='checkpoint file (local path)')
    p.add_argument('--types', nargs='+', default=list(PERTURBATION_TYPES),
                   choices=list(PERTURBATION_TYPES),
                   help='perturbation types (default: all 7)')
    p.add_argument('--levels', nargs='+', type=int, default=[1, 2, 3, 4, 5],
                   choices=[1, 2, 3, 4, 5], help='levels (default: 1-5)')
    p.add_argument('--out-dir', help='where the table and plot go; default '
                   'work_dirs/robustness/<config name>')
    p.add_argument('--overwrite', action='store_true',
                   help='replace existing result files in --out-dir')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the random blocks and noise (per image)')
    p.add_argument('--compression-backend', default='auto',
                   choices=['auto', 'pyav', 'ffmpeg', 'jpeg'],
                   help='H.264 via PyAV or ffmpeg, or the JPEG stand-in; '
                   'auto falls back to JPEG with a warning')
    p.add_argument('--device', default=None,
                   help="'cpu', 'cuda'... (default: cuda if available)")
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys')
    p.add_argument('--allow-new-keys', action='store_true')
    return p.parse_args(argv)


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


def evaluate_auc(model, dataloader_cfg: dict) -> float:
    """ROC AUC (percent) of ``model`` on one test dataloader config."""
    import torch
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner

    from mmfocus.evaluation import ForgeryMetric
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
    """AUC vs level per type, the clean AUC as a dashed line (PNG)."""
    import io

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from mmfocus.utils.io import atomic_write
    levels = summary['levels']
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
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
    plt.close(fig)
    atomic_write(path, buf.getvalue())


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.apis import init_model
    from mmfocus.apis.runner import load_config
    from mmfocus.utils import register_all_modules
    from mmfocus.utils.checkpoint import load_checkpoint_file
    from mmfocus.utils.io import atomic_write, atomic_write_json

    load_checkpoint_file(args.checkpoint)  # clear error before any work
    cfg = load_config(args.config, args.cfg_options, args.allow_new_keys)
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'robustness',
        osp.splitext(osp.basename(args.config))[0])
    paths = [osp.join(out_dir, n) for n in OUT_FILES]
    existing = [p for p in paths if osp.exists(p)]
    if existing and not args.overwrite:
        raise FileExistsError(f'result file exists: {existing[0]} (pass '
                              '--overwrite to replace it)')
    types = list(dict.fromkeys(args.types))
    levels = sorted(set(args.levels))
    backend = None
    if 'compression' in types:
        backend = resolve_compression_backend(args.compression_backend)
    perturbed_dataloader_cfg(cfg)  # clear error before the model is built

    import torch
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    register_all_modules(init_default_scope=True)
    model = init_model(cfg, args.checkpoint, device=device)

    clean = evaluate_auc(model, perturbed_dataloader_cfg(cfg))
    print(f'clean: AUC {_fmt(clean)}', flush=True)
    aucs = {}
    for t in types:
        aucs[t] = {}
        for lv in levels:
            step = dict(type='DeeperForensicsPerturbation', kind=t,
                        level=lv, seed=args.seed,
                        compression_backend=backend or 'auto')
            aucs[t][lv] = evaluate_auc(model,
                                       perturbed_dataloader_cfg(cfg, step))
            print(f'{t} level {lv}: AUC {_fmt(aucs[t][lv])}', flush=True)

    summary = summarise(clean, aucs, levels)
    meta = dict(config=args.config, checkpoint=args.checkpoint,
                seed=args.seed, compression_backend=backend)
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(paths[0], dict(meta, **summary), overwrite=True)
    atomic_write(paths[1], to_markdown(summary, meta).encode('utf-8'),
                 overwrite=True)
    plot(summary, paths[2])
    print(to_markdown(summary, meta))
    print(f'wrote {", ".join(paths)}')
    return summary


if __name__ == '__main__':
    cli_main(main)()
