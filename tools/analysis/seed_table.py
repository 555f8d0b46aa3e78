# Copyright (c) mmfocus contributors.
"""Test several checkpoints of one recipe (training seeds) and tabulate the
detection and map-quality figures with their spread.

Each checkpoint is tested by ``tools/test.py`` (in a subprocess, one at a
time) into ``<work-dir>/<name>/``; a finished test is reused. The table
(Markdown + JSON) has one row per checkpoint: detection AUC with its 95 %
bootstrap interval over test faces, Acc, paired map-AUC with the number of
pairs, per-image pixel AUC and F1@0.5 on the local-region fakes beside the
best position prior, and a last row with the mean and the standard
deviation over the checkpoints.

    python tools/analysis/seed_table.py configs/focus/vit-demo_demo-sbi.py \\
        seed0=checkpoints/focus_vit-demo_demo-sbi.pth \\
        seed1=work_dirs/seed1/iter_3000.pth \\
        seed2=work_dirs/seed2/iter_3000.pth \\
        --work-dir work_dirs/seed_table --cfg-options model.map_norm=posterior
"""
import argparse
import os
import os.path as osp
import subprocess
import sys

import numpy as np

from mmfocus.evaluation.functional import binary_auc, bootstrap_interval
from mmfocus.utils.cli import cli_main
from mmfocus.utils.io import atomic_write, atomic_write_json, load_json
from mmfocus.visualization.report import find_test_metrics, load_metrics

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRIORS = ('prior_mean_mask', 'prior_gaussian', 'prior_region')
# (key, header, scale, digits)
COLUMNS = (
    ('auc', 'AUC', 1, 2),
    ('acc', 'Acc', 1, 2),
    ('paired', 'paired map-AUC', 1, 3),
    ('local_pix', 'local pixAUC/img', 1, 3),
    ('local_prior', 'best prior', 1, 3),
    ('local_f1', 'local F1@0.5', 1, 3),
    ('f1', 'F1@0.5 (all)', 1, 3),
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the recipe config')
    p.add_argument('checkpoints', nargs='+', metavar='NAME=CKPT',
                   help='checkpoints, each named (e.g. seed0=a.pth)')
    p.add_argument('--work-dir', required=True)
    p.add_argument('--cfg-options', nargs='+', default=[],
                   metavar='KEY=VALUE', help='passed to tools/test.py')
    p.add_argument('--bootstrap', type=int, default=1000,
                   help='bootstrap resamples (default 1000)')
    p.add_argument('--title', default=None)
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bar')
    return p.parse_args(argv)


def _named(specs):
    out = {}
    for spec in specs:
        name, sep, path = spec.partition('=')
        if not sep or not name or not path:
            raise ValueError(f'checkpoint must be NAME=PATH, got {spec!r}')
        if name in out:
            raise ValueError(f'checkpoint name {name!r} given twice')
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint not found: {path}')
        out[name] = path
    return out


def _test(config, ckpt, work_dir, cfg_options):
    pred = osp.join(work_dir, 'predictions.json')
    if osp.isfile(pred) and find_test_metrics(work_dir):
        return pred
    cmd = [sys.executable, osp.join(ROOT, 'tools/test.py'), config, ckpt,
           '--work-dir', work_dir, '--out', pred]
    if cfg_options:
        cmd += ['--cfg-options', *cfg_options]
    from tqdm import tqdm
    tqdm.write('[seed_table] ' + ' '.join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return pred


def row_of(metrics: dict, preds: list, n_boot: int) -> dict:
    """The table's figures of one tested checkpoint."""
    g = metrics.get
    nan = float('nan')
    lo, hi = bootstrap_interval([p['fake_score'] for p in preds],
                                labels=[p['gt_label'] for p in preds],
                                n=n_boot)
    local_priors = [g(f'map/local/{p}/pixel_auc_per_image', nan)
                    for p in PRIORS]
    # each branch head alone (FoCus's fake_score_<branch>), with its interval
    labels = [p['gt_label'] for p in preds]
    branches = {}
    for key in sorted(set.intersection(*(set(p) for p in preds))):
        if key.startswith('fake_score_'):
            vals = [p[key] for p in preds]
            lo_b, hi_b = bootstrap_interval(vals, labels=labels, n=n_boot)
            branches[key[len('fake_score_'):]] = dict(
                auc=100 * binary_auc(np.asarray(vals), np.asarray(labels)),
                lo=100 * lo_b, hi=100 * hi_b)
    return dict(branches=branches,
        auc=g('forgery/auc', nan), auc_lo=100 * lo, auc_hi=100 * hi,
        acc=g('forgery/acc', nan), paired=g('map/paired_auc', nan),
        paired_lo=g('map/paired_auc_ci_low', nan),
        paired_hi=g('map/paired_auc_ci_high', nan),
        num_pairs=int(g('map/num_pairs', 0)),
        local_pix=g('map/local/pixel_auc_per_image', nan),
        local_prior=float(np.nanmax(local_priors)),
        local_f1=g('map/local/f1@0.5', nan), f1=g('map/f1@0.5', nan),
        num_faces=len(preds),
        num_local=int(g('map/local/num_fakes', 0)))


def _fmt(v, d):
    return 'n/a' if v is None or v != v else f'{v:.{d}f}'


def markdown(rows: dict, title: str, command: str) -> str:
    heads = ['checkpoint'] + [h for _, h, _, _ in COLUMNS]
    lines = [f'# {title}', '', f'`{command}`', '',
             '| ' + ' | '.join(heads) + ' |',
             '|' + '---|' * len(heads)]
    for name, r in rows.items():
        cells = [name]
        for k, _, _, d in COLUMNS:
            c = _fmt(r[k], d)
            if k == 'auc':
                c += f' [{_fmt(r["auc_lo"], 1)}, {_fmt(r["auc_hi"], 1)}]'
            if k == 'paired':
                lo = r.get('paired_lo', float('nan'))
                hi = r.get('paired_hi', float('nan'))
                if lo == lo and hi == hi:  # not nan
                    c += f' [{_fmt(lo, 3)}, {_fmt(hi, 3)}]'
                c += f' ({r["num_pairs"]} pairs)'
            cells.append(c)
        lines.append('| ' + ' | '.join(cells) + ' |')
    if len(rows) > 1:
        cells = [f'mean ± sd ({len(rows)})']
        for k, _, _, d in COLUMNS:
            v = np.array([r[k] for r in rows.values()], np.float64)
            cells.append(f'{_fmt(np.nanmean(v), d)} ± '
                         f'{_fmt(np.nanstd(v, ddof=1), d)}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    heads_b = sorted(set.intersection(*(set(r.get('branches') or {})
                                        for r in rows.values())))
    if heads_b:
        lines += ['', 'Each branch head alone (AUC [95 % bootstrap]):', '',
                  '| checkpoint | ' + ' | '.join(heads_b) + ' |',
                  '|' + '---|' * (len(heads_b) + 1)]
        for name, r in rows.items():
            lines.append('| ' + ' | '.join(
                [name] + [f'{r["branches"][b]["auc"]:.2f} '
                          f'[{r["branches"][b]["lo"]:.1f}, '
                          f'{r["branches"][b]["hi"]:.1f}]'
                          for b in heads_b]) + ' |')
    r0 = next(iter(rows.values()))
    lines += ['', f'{r0["num_faces"]} test faces per checkpoint; AUC with '
              'its 95 % bootstrap interval over them, paired map-AUC with '
              'its interval over the pairs; local = the '
              f'{r0["num_local"]} local-region fakes; best prior = the best '
              'per-image pixel AUC of the three position priors on them.', '']
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    ckpts = _named(args.checkpoints)
    os.makedirs(args.work_dir, exist_ok=True)
    rows = {}
    from tqdm import tqdm
    bar = tqdm(ckpts.items(), total=len(ckpts), desc='seed_table',
               unit='checkpoint', disable=args.no_progress)
    for name, ckpt in bar:
        bar.set_postfix_str(name)
        wd = osp.join(args.work_dir, name)
        pred = _test(args.config, ckpt, wd, args.cfg_options)
        rows[name] = dict(row_of(load_metrics(find_test_metrics(wd)),
                                 load_json(pred, 'predictions'),
                                 args.bootstrap), checkpoint=ckpt)
    command = 'python tools/analysis/seed_table.py ' + ' '.join(
        [args.config] + [f'{k}={v}' for k, v in ckpts.items()] +
        ['--work-dir', args.work_dir] +
        (['--cfg-options'] + args.cfg_options if args.cfg_options else []))
    title = args.title or f'{osp.basename(args.config)} over ' \
        f'{len(rows)} checkpoints'
    md = markdown(rows, title, command)
    atomic_write(osp.join(args.work_dir, 'table.md'), md.encode(),
                 overwrite=True)
    atomic_write_json(osp.join(args.work_dir, 'table.json'),
                      dict(command=command, config=args.config,
                           cfg_options=args.cfg_options, rows=rows),
                      overwrite=True)
    print(md)
    print(f'wrote {osp.join(args.work_dir, "table.md")} and '
          f'{osp.join(args.work_dir, "table.json")}')
    return rows


if __name__ == '__main__':
    cli_main(main)()
