# Copyright (c) mmfocus contributors.
"""The self-contained HTML report of a test run, built from its work dir.

The page is ``template.html`` (package data beside this module: the
layout, the CSS, the gallery's JS and the Content-Security-Policy that
forbids any network access) filled with :class:`string.Template`
(``$name`` fields); the figures and thumbnails go in as ``data:`` URIs.
"""
import base64
import datetime
import html
import json
import os.path as osp
from typing import List, Optional

import cv2
import numpy as np

from mmfocus.utils.io import atomic_open, imread_checked
from mmfocus.visualization.overlay import overlay_map
from .figures import figure_to_png, group_names, histogram_figure, roc_figure
from .html_parts import data_uri, downscale, load_template
from .results import (MapIndex, find_predictions, find_test_metrics,
                      load_metrics, load_predictions,
                      metrics_from_predictions)

TEMPLATE = 'template.html'


_thumb = downscale  # (the name the report package exports)


def _select(preds: List[dict], max_items: int) -> List[int]:
    """Indices of at most ``max_items`` predictions spread evenly over the
    score ranking (all of them when there are fewer)."""
    n = len(preds)
    if n <= max_items:
        return list(range(n))
    order = sorted(range(n), key=lambda i: (-preds[i]['fake_score'],
                                            str(preds[i]['img_path'])))
    picks = np.unique(np.round(np.linspace(0, n - 1, max_items)).astype(int))
    return [order[i] for i in picks]


def _fmt(v) -> str:
    if isinstance(v, float):
        return 'nan' if v != v else f'{v:.4f}'
    return html.escape(str(v))


def build_report_html(work_dir: str, preds_file: Optional[str] = None,
                      metrics_file: Optional[str] = None,
                      maps_dir: Optional[str] = None, max_items: int = 500,
                      thumb: int = 112, thr: float = 0.5,
                      title: Optional[str] = None) -> str:
    """Build the one-page HTML report of a test run.

    Everything is inline: CSS, JS, the figures and the face / map
    thumbnails as ``data:`` URIs; a Content-Security-Policy forbids any
    network access.

    Args:
        work_dir (str): The test work dir.
        preds_file (str, optional): ``tools/test.py --out`` JSON. Defaults to
            None: the single predictions dump found in ``work_dir``.
        metrics_file (str, optional): mmengine JSON log with the test
            metrics. Defaults to None: the newest ``<ts>/<ts>.json`` in
            ``work_dir``; if none, frame-level metrics computed from the
            predictions.
        maps_dir (str, optional): ``ManipulationMapHook`` folder with
            ``overlay/`` and ``raw/``. Defaults to None:
            ``<work_dir>/maps/test`` when it exists.
        max_items (int): Most faces in the gallery (spread evenly over the
            score ranking). Defaults to 500.
        thumb (int): Thumbnail size in pixels. Defaults to 112.
        thr (float): Decision threshold for errors. Defaults to 0.5.
        title (str, optional): Page title. Defaults to the work dir name.

    Returns:
        str: The HTML text.
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    preds_file = preds_file or find_predictions(work_dir)
    preds = load_predictions(preds_file)
    if metrics_file is None:
        metrics_file = find_test_metrics(work_dir)
    if metrics_file is not None:
        if not osp.isfile(metrics_file):
            raise FileNotFoundError(f'metrics file not found: {metrics_file}')
        metrics = load_metrics(metrics_file)
        metrics_src = metrics_file
    else:
        metrics = metrics_from_predictions(preds)
        metrics_src = f'computed from {osp.basename(preds_file)} ' \
                      '(no test log found)'
    if maps_dir is None and osp.isdir(osp.join(work_dir, 'maps', 'test')):
        maps_dir = osp.join(work_dir, 'maps', 'test')
    index = MapIndex(maps_dir)

    labelled = [p for p in preds if p.get('gt_label') in (0, 1)]
    plots = []
    if labelled:
        scores = [p['fake_score'] for p in labelled]
        labels = [p['gt_label'] for p in labelled]
        vids = [p.get('video_id') for p in labelled]
        plots.append(('ROC', roc_figure(scores, labels, vids)))
        plots.append(('fake score per class', histogram_figure(
            scores, ['fake' if y else 'real' for y in labels],
            title='fake score per class')))
        groups = group_names(labels, [p.get('method') for p in labelled])
        if len(set(groups)) > 2 or set(groups) - {'real', 'fake'}:
            plots.append(('fake score per method', histogram_figure(
                scores, groups, title='fake score per method')))
    plot_html = ''.join(
        f'<img id="plot-{i}" alt="{html.escape(name)}" '
        f'src="data:image/png;base64,'
        f'{base64.b64encode(figure_to_png(fig)).decode("ascii")}">'
        for i, (name, fig) in enumerate(plots))

    items = []
    n_maps = 0
    try:  # names relative to the folder all images share
        root = osp.commonpath([osp.dirname(osp.abspath(str(p['img_path'])))
                               for p in preds])
    except ValueError:  # paths on different drives
        root = None
    for i in _select(preds, max_items):
        p = preds[i]
        path = str(p['img_path'])
        face = imread_checked(path)
        face_t = _thumb(face, thumb)
        found = index.find(path)
        map_uri = None
        if found is not None:
            kind, mpath = found
            if kind == 'overlay':
                ov = imread_checked(mpath)
            else:
                raw = imread_checked(mpath, cv2.IMREAD_UNCHANGED)
                ov = overlay_map(face, raw.astype(np.float32) / 65535.)
            map_uri = data_uri(_thumb(ov, thumb))
            n_maps += 1
        gt = p.get('gt_label')
        gt = int(gt) if gt in (0, 1) else None
        mask_uri = None
        if p.get('mask_path') and gt == 1:
            try:  # the true manipulation mask, beside the map
                mask = imread_checked(str(p['mask_path']),
                                      cv2.IMREAD_GRAYSCALE)
                mask_uri = data_uri(_thumb(cv2.cvtColor(
                    mask, cv2.COLOR_GRAY2BGR), thumb))
            except (FileNotFoundError, ValueError):
                mask_uri = None
        score = float(p['fake_score'])
        pred = 'fake' if score > thr else 'real'
        items.append(dict(
            name=osp.relpath(osp.abspath(path), root) if root else path,
            path=path, gt=gt,
            label={0: 'real', 1: 'fake', None: 'unlabelled'}[gt],
            pred=pred, score=score,
            error=gt is not None and (score > thr) != bool(gt),
            method=p.get('method'), video=p.get('video_id'),
            face=data_uri(face_t), mask=mask_uri, map=map_uri))

    def table(items, id_):
        rows = ''.join(f'<tr><th>{html.escape(str(k))}</th>'
                       f'<td class="v">{_fmt(v)}</td></tr>'
                       for k, v in items)
        return f'<table class="metrics" id="{id_}">{rows}</table>'

    # the headline metrics first; per-group (per region type / method) and
    # position-prior values (``map/<group>/<key>``) folded away below them
    main = [(k, v) for k, v in metrics.items() if str(k).count('/') < 2]
    more = [(k, v) for k, v in metrics.items() if str(k).count('/') >= 2]
    metrics_html = table(main, 'metrics') if main else '<p>no metrics</p>'
    if more:
        metrics_html += (f'<details><summary>per region type / method and '
                         f'position priors ({len(more)} values)</summary>'
                         f'{table(more, "metrics-more")}</details>')
    items_json = json.dumps(items, separators=(',', ':')).replace(
        '</', '<\\/')
    title = title or f'mmfocus report: {osp.basename(osp.abspath(work_dir))}'
    n_err = sum(it['error'] for it in items)
    shown = (f'{len(items)} faces' if len(items) == len(preds) else
             f'{len(items)} of {len(preds)} faces (spread over the score '
             f'ranking; --max-items)')
    esc = html.escape
    meta = (f'work dir <code>{esc(osp.abspath(work_dir))}</code> &middot; '
            f'predictions <code>{esc(preds_file)}</code> &middot; '
            f'metrics <code>{esc(metrics_src)}</code> &middot; maps '
            f'<code>{esc(str(maps_dir))}</code> ({n_maps} found) &middot; '
            f'made {datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}')
    return load_template(TEMPLATE).substitute(
        title=esc(title), n_items=len(items), meta=meta,
        metrics=metrics_html,
        plots=plot_html or '<p>no labelled predictions</p>', shown=shown,
        n_errors=n_err, thr=format(thr), items_json=items_json)


def write_report(path: str, text: str, overwrite: bool = False) -> None:
    """Write the report atomically; refuse to replace a file unless
    ``overwrite``."""
    if osp.exists(path) and not overwrite:
        raise FileExistsError(f'report exists: {path} (pass --overwrite to '
                              'replace it)')
    with atomic_open(path, 'w', overwrite=overwrite) as f:
        f.write(text)
