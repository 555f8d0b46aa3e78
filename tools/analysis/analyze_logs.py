# Copyright (c) mmfocus contributors.
"""Plot loss / metric curves and estimate the training time from mmengine's
JSON logs (``<work_dir>/<timestamp>/vis_data/scalars.json`` or
``<timestamp>.json``, one JSON object per line).

A work dir may hold several runs (an interrupted run and its ``--resume``):
they are joined in time order, a later run replacing what the earlier one
logged from its first iteration on. mmengine logs validation metrics at
``step`` = epoch (0 in iteration-based training), so a validation line is
placed at the iteration of the training line logged just before it.

Examples:
    python tools/analysis/analyze_logs.py plot_curve work_dirs/demo \
        --keys loss loss_loc_rgb auc --out curves.png
    python tools/analysis/analyze_logs.py plot_curve a/vis_data/scalars.json \
        b/vis_data/scalars.json --keys loss --legend run-a run-b --out c.png
    python tools/analysis/analyze_logs.py cal_train_time work_dirs/demo
"""
import argparse
import glob
import io
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmfocus.utils.cli import cli_main
from mmfocus.utils.io import atomic_write, load_json_lines


def _read_json_lines(path: str, run: int) -> List[dict]:
    records = load_json_lines(path)
    last_iter = None
    for rec in records:
        rec['_run'] = run
        if 'lr' in rec or 'iter' in rec:  # a training line
            rec['_mode'] = 'train'
            last_iter = int(rec.get('iter', rec.get('step', 0)))
            rec['_x'] = last_iter
        else:  # validation metrics, logged at step=epoch
            rec['_mode'] = 'val'
            rec['_x'] = last_iter if last_iter is not None \
                else int(rec.get('step', 0))
    return records


def log_files(path: str) -> List[str]:
    """The JSON logs named by ``path``: the file itself, the
    ``vis_data/scalars.json`` of a timestamp dir, or those of every run in a
    work dir (time order)."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'log or work dir not found: {path}')
    own = osp.join(path, 'vis_data', 'scalars.json')
    if osp.isfile(own):
        return [own]
    files = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no training log in {path} (expected '
            '<work_dir>/<timestamp>/vis_data/scalars.json)')
    return files


def load_log(path: str) -> List[dict]:
    """Records of a log file or a work dir, runs joined (see module doc).

    Each record gets ``_mode`` (``'train'``/``'val'``), ``_x`` (iteration)
    and ``_run`` (index of its file).
    """
    records: List[dict] = []
    for run, file in enumerate(log_files(path)):
        recs = _read_json_lines(file, run)
        starts = [r['_x'] for r in recs if r['_mode'] == 'train']
        if starts:  # a resumed run replaces what was logged from here on
            records = [r for r in records if r['_x'] < starts[0]]
        records.extend(recs)
    if not records:
        raise ValueError(f'{path}: the log is empty')
    return records


def resolve_keys(records: List[dict], key: str, path: str) -> List[str]:
    """Keys of the log that ``key`` names: itself if present, else every
    metric whose last ``/`` part is ``key`` (``auc`` -> ``forgery/auc``)."""
    present = []
    for r in records:
        for k in r:
            if not k.startswith('_') and k not in present:
                present.append(k)
    if key in present:
        return [key]
    found = [k for k in present if k.rsplit('/', 1)[-1] == key and '/' in k]
    if not found:
        raise KeyError(f"key '{key}' not in {path}; available: "
                       f"{', '.join(present)}")
    return found


def plot_curve(logs: Dict[str, List[dict]], keys: Sequence[str],
               title: Optional[str] = None):
    """One subplot per key, one line per (log, matching key).

    Args:
        logs (dict[str, list[dict]]): Legend name -> records of
            :func:`load_log`.
        keys (Sequence[str]): Keys to plot (see :func:`resolve_keys`).
        title (str, optional): Figure title.

    Returns:
        matplotlib.figure.Figure: The figure.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 2.6 * len(keys) + 0.4), dpi=100)
    FigureCanvasAgg(fig)
    for i, key in enumerate(keys):
        ax = fig.add_subplot(len(keys), 1, i + 1)
        for name, records in logs.items():
            for k in resolve_keys(records, key, name):
                pts = [(r['_x'], r[k]) for r in records
                       if k in r and isinstance(r[k], (int, float))]
                xs, ys = zip(*pts)
                single = len(pts) == 1
                ax.plot(xs, ys, marker='o' if single or all(
                    r['_mode'] == 'val' for r in records if k in r) else None,
                        ms=3, label=f'{name}: {k}')
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.axes[-1].set_xlabel('iteration')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def cal_train_time(records: List[dict], include_outliers: bool = False
                   ) -> dict:
    """Average time per training iteration from the logged ``time``.

    A logged ``time`` is mmengine's mean over the last iterations, so each
    line is weighted by the iterations since the line before it. The first
    line of each run (start-up, first batches) is left out unless
    ``include_outliers``.

    Returns:
        dict: ``avg`` (s/iter), ``std`` (of the logged values used),
        ``slowest`` / ``fastest`` (``(iter, s/iter)``), ``iters`` (last
        iteration), ``total`` (``avg * iters`` seconds), ``data_time``
        (weighted mean, or None), ``used`` (lines used).
    """
    train = [r for r in records if r['_mode'] == 'train' and 'time' in r]
    if not train:
        raise ValueError('no training line with a time in the log')
    rows, prev, prev_run = [], 0, None
    for r in train:
        w = r['_x'] - prev
        first = r['_run'] != prev_run
        prev, prev_run = r['_x'], r['_run']
        if w <= 0 or (first and not include_outliers):
            continue
        rows.append((r['_x'], float(r['time']), w, r.get('data_time')))
    if not rows:
        raise ValueError('too few training lines to estimate the time '
                         '(try --include-outliers)')
    its = np.array([x[0] for x in rows])
    t = np.array([x[1] for x in rows])
    w = np.array([x[2] for x in rows], dtype=np.float64)
    avg = float((t * w).sum() / w.sum())
    dts = [x[3] for x in rows]
    data_time = float((np.array(dts, dtype=np.float64) * w).sum() / w.sum()) \
        if all(d is not None for d in dts) else None
    iters = int(train[-1]['_x'])
    return dict(avg=avg, std=float(t.std()),
                slowest=(int(its[t.argmax()]), float(t.max())),
                fastest=(int(its[t.argmin()]), float(t.min())),
                iters=iters, total=avg * iters, data_time=data_time,
                used=len(rows))


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f'{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}'


def parse_args(argv=None):
    # one parser (not sub-parsers) so that every option is listed by --help
    p = argparse.ArgumentParser(
        description='Analyze mmengine JSON logs: plot_curve draws logged '
        'keys, cal_train_time estimates the time per training iteration')
    p.add_argument('task', choices=['plot_curve', 'cal_train_time'])
    p.add_argument('logs', nargs='+',
                   help='work dirs, timestamp dirs or JSON log files')
    p.add_argument('--keys', nargs='+', default=['loss'],
                   help="plot_curve: keys to plot; 'auc' matches "
                   "'forgery/auc' (default: loss)")
    p.add_argument('--legend', nargs='+', default=None,
                   help='plot_curve: a name per log (default: the paths)')
    p.add_argument('--title', default=None, help='plot_curve: figure title')
    p.add_argument('--out', default=None,
                   help='plot_curve: image file to write (.png, .pdf, .svg)')
    p.add_argument('--overwrite', action='store_true',
                   help='plot_curve: replace an existing --out file')
    p.add_argument('--include-outliers', action='store_true',
                   help='cal_train_time: keep the first logged line of '
                   'each run')
    args = p.parse_args(argv)
    if args.task == 'plot_curve' and not args.out:
        p.error('plot_curve needs --out')
    if args.legend and len(args.legend) != len(args.logs):
        p.error(f'--legend needs {len(args.logs)} names, got '
                f'{len(args.legend)}')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.task == 'plot_curve':
        if osp.exists(args.out) and not args.overwrite:
            raise FileExistsError(f'--out file exists: {args.out} (pass '
                                  '--overwrite to replace it)')
        names = args.legend or args.logs
        logs = {n: load_log(p) for n, p in zip(names, args.logs)}
        fig = plot_curve(logs, args.keys, args.title)
        buf = io.BytesIO()
        fmt = osp.splitext(args.out)[1].lstrip('.').lower() or 'png'
        try:
            fig.savefig(buf, format=fmt)
        except ValueError as e:
            raise ValueError(f'cannot write {args.out}: {e}') from e
        atomic_write(args.out, buf.getvalue(), overwrite=args.overwrite)
        n = sum(len(ax.lines) for ax in fig.axes)
        print(f'{n} curves of {len(args.keys)} keys written to {args.out}')
        return fig
    results = {}
    for path in args.logs:
        res = cal_train_time(load_log(path), args.include_outliers)
        results[path] = res
        print(f'-----Analyze train time of {path}-----')
        print(f'slowest: iter {res["slowest"][0]}, '
              f'{res["slowest"][1]:.4f} s/iter')
        print(f'fastest: iter {res["fastest"][0]}, '
              f'{res["fastest"][1]:.4f} s/iter')
        print(f'std over logged windows: {res["std"]:.4f}')
        if res['data_time'] is not None:
            print(f'average data time: {res["data_time"]:.4f} s/iter')
        print(f'average iter time: {res["avg"]:.4f} s/iter')
        print(f'estimated train time: {_hms(res["total"])} for '
              f'{res["iters"]} iterations')
    return results


if __name__ == '__main__':
    cli_main(main)()
