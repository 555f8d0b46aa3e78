# Copyright (c) mmfocus contributors.
"""Figures of a test run (ROC, score histograms, map gallery) and the
self-contained HTML report built from a work dir.

The figures are drawn with matplotlib's object API (``Figure`` + the Agg
canvas, never ``pyplot``), so they work headless and leave no global state.
They are shared by :class:`mmfocus.engine.hooks.ForgeryVisualizationHook`
(during ``tools/test.py``) and ``tools/report.py`` (from a work dir).
"""
import base64
import datetime
import glob
import html
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfocus.utils.io import (atomic_open, imread_checked, load_json,
                              load_json_lines, sample_name)
from mmfocus.visualization.overlay import overlay_map
from mmfocus.evaluation import functional as Fn
from mmfocus.evaluation.functional import video_level

# --------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------


def _new_figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def figure_to_rgb(fig) -> np.ndarray:
    """Render a matplotlib figure to an RGB uint8 array (H, W, 3)."""
    fig.canvas.draw()
    return np.ascontiguousarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])


def figure_to_png(fig) -> bytes:
    """Encode a matplotlib figure as PNG bytes."""
    ok, buf = cv2.imencode('.png', cv2.cvtColor(figure_to_rgb(fig),
                                                cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError('could not encode a figure as PNG')
    return buf.tobytes()


def has_video_level(video_ids: Sequence) -> bool:
    """Video-level results exist when every sample has a video id and at
    least one video has several frames (the rule of ``ForgeryMetric``)."""
    ids = list(video_ids)
    return bool(ids) and all(v is not None for v in ids) and \
        len(set(ids)) < len(ids)


def roc_curves(scores: Sequence[float], labels: Sequence[int],
               video_ids: Optional[Sequence] = None
               ) -> Dict[str, Tuple[np.ndarray, np.ndarray, float]]:
    """ROC curves (scikit-learn) at frame and, when possible, video level.

    Args:
        scores (Sequence[float]): Fake scores.
        labels (Sequence[int]): 0 real, 1 fake.
        video_ids (Sequence, optional): Video id per sample; frames are
            averaged per video (``mmfocus.evaluation.functional.
            video_level``). Defaults to None.

    Returns:
        dict: ``{'frame'|'video': (fpr, tpr, auc)}``; a level with a single
        class is left out.
    """
    from sklearn.metrics import auc, roc_curve

    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    levels = [('frame', scores, labels)]
    if video_ids is not None and has_video_level(video_ids):
        try:
            v_s, v_l, _ = video_level(scores, labels, video_ids)
        except ValueError:  # a video with real and fake frames
            pass
        else:
            levels.append(('video', v_s, v_l))
    out = {}
    for name, s, y in levels:
        if y.size and y.min() != y.max():
            fpr, tpr, _ = roc_curve(y, s)
            out[name] = (fpr, tpr, float(auc(fpr, tpr)))
    return out


def roc_figure(scores: Sequence[float], labels: Sequence[int],
               video_ids: Optional[Sequence] = None,
               title: str = 'ROC'):
    """A figure with the frame-level (and video-level) ROC curve.

    With a single class present the figure says so instead of a curve.
    """
    fig = _new_figure(4.6, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    curves = roc_curves(scores, labels, video_ids)
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, lw=2, label=f'{name} (AUC {100 * auc:.2f})')
    ax.plot([0, 1], [0, 1], ls='--', lw=1, color='0.6', label='chance')
    if not curves:
        ax.text(0.5, 0.5, 'ROC undefined:\nonly one class present',
                ha='center', va='center')
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel='false positive rate',
           ylabel='true positive rate', title=title)
    ax.legend(loc='lower right', fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def group_names(labels: Sequence[int],
                methods: Optional[Sequence] = None) -> List[str]:
    """Manipulation method of each sample, ``'real'``/``'fake'`` when a
    sample has none."""
    methods = list(methods) if methods is not None else [None] * len(labels)
    return [str(m) if m not in (None, '') else ('fake' if y else 'real')
            for m, y in zip(methods, labels)]


def histogram_figure(scores: Sequence[float], groups: Sequence[str],
                     title: str = 'fake score', bins: int = 20):
    """Overlaid fake-score histograms, one per group (class or method)."""
    fig = _new_figure(5.2, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(list(groups), dtype=object)
    edges = np.linspace(0, 1, bins + 1)
    # reals first, so that 'real' keeps the first colour in every plot
    for name in sorted(set(groups.tolist()), key=lambda g: (g != 'real', g)):
        sel = scores[groups == name]
        ax.hist(np.clip(sel, 0, 1), bins=edges, alpha=0.55,
                label=f'{name} (n={sel.size})')
    ax.set(xlim=(0, 1), xlabel='fake score', ylabel='samples', title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def gallery_figure(rows: Dict[str, List[dict]], tile: float = 1.5):
    """A grid of faces with their map overlays, one row per group.

    Args:
        rows (dict[str, list[dict]]): Row title -> items with ``image``
            (RGB uint8) and ``caption``.
        tile (float): Tile size in inches. Defaults to 1.5.
    """
    rows = {k: v for k, v in rows.items()}
    n_rows = max(len(rows), 1)
    n_cols = max([len(v) for v in rows.values()] + [1])
    fig = _new_figure(tile * n_cols + 0.6, (tile + 0.45) * n_rows)
    for r, (title, items) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = fig.add_subplot(n_rows, n_cols, r * n_cols + c + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if c < len(items):
                ax.imshow(items[c]['image'])
                ax.set_title(items[c]['caption'], fontsize=7)
            elif c == 0:
                ax.text(0.5, 0.5, 'none', ha='center', va='center')
            if c == 0:
                ax.set_ylabel(title, fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# HTML report
# --------------------------------------------------------------------------

_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")

_CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;
color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
.meta{color:#666;font-size:12px}.meta code{font-size:12px}
table.metrics{border-collapse:collapse;font-size:13px}
table.metrics td,table.metrics th{border:1px solid #ddd;padding:3px 10px;
text-align:left}table.metrics td.v{text-align:right;font-variant-numeric:
tabular-nums}table.metrics tr:nth-child(even){background:#f0f0f0}
.plots img{max-width:32%;margin-right:1%;border:1px solid #ddd;
background:#fff;vertical-align:top}
#controls{margin:6px 0 12px;font-size:14px}#controls select{margin-right:14px}
#gallery{display:flex;flex-wrap:wrap;gap:10px}
.item{margin:0;padding:6px;background:#fff;border:2px solid #ccc;
border-radius:6px;width:auto}.item.gt-fake{border-color:#d9534f}
.item.gt-real{border-color:#5cb85c}.item.error{box-shadow:0 0 0 3px #f0ad4e}
.item img{display:inline-block;width:112px;height:112px;object-fit:cover;
image-rendering:auto}.item .nomap{display:inline-block;width:112px;
height:112px;line-height:112px;text-align:center;color:#999;font-size:12px;
background:#eee;vertical-align:top}
.item figcaption{font-size:11px;max-width:352px;overflow-wrap:anywhere}
.score{font-weight:bold}
"""

_JS = r"""
(function () {
  'use strict';
  var items = JSON.parse(document.getElementById('items-data').textContent);
  var gallery = document.getElementById('gallery');
  var sortSel = document.getElementById('sort');
  var filterSel = document.getElementById('filter');
  var count = document.getElementById('count');
  function byName(a, b) {
    return a.name < b.name ? -1 : (a.name > b.name ? 1 : 0);
  }
  function gt(a) { return a.gt === null ? -1 : a.gt; }
  var orders = {
    'score-desc': function (a, b) {
      return (b.score - a.score) || byName(a, b);
    },
    'score-asc': function (a, b) {
      return (a.score - b.score) || byName(a, b);
    },
    'label': function (a, b) {
      return (gt(b) - gt(a)) || (b.score - a.score) || byName(a, b);
    },
    'name': byName
  };
  var filters = {
    'all': function () { return true; },
    'fake': function (it) { return it.gt === 1; },
    'real': function (it) { return it.gt === 0; },
    'errors': function (it) { return it.error; }
  };
  function image(src, alt) {
    var img = document.createElement('img');
    img.src = src; img.alt = alt; img.title = alt;
    return img;
  }
  function card(it) {
    var fig = document.createElement('figure');
    fig.className = 'item' +
      (it.gt === 1 ? ' gt-fake' : (it.gt === 0 ? ' gt-real' : '')) +
      (it.error ? ' error' : '');
    fig.setAttribute('data-name', it.name);
    fig.setAttribute('data-score', String(it.score));
    fig.setAttribute('data-label', it.label);
    fig.appendChild(image(it.face, 'face ' + it.name));
    if (it.mask) {
      fig.appendChild(image(it.mask, 'true mask ' + it.name));
    }
    if (it.map) {
      fig.appendChild(image(it.map, 'manipulation map ' + it.name));
    } else {
      var none = document.createElement('span');
      none.className = 'nomap'; none.textContent = 'no map';
      fig.appendChild(none);
    }
    var cap = document.createElement('figcaption');
    var s = document.createElement('span');
    s.className = 'score'; s.textContent = it.score.toFixed(4);
    cap.appendChild(s);
    cap.appendChild(document.createTextNode(
      ' ' + it.label + ' \u2192 ' + it.pred +
      (it.method && it.method !== it.label ? ' \u00b7 ' + it.method : '')));
    cap.appendChild(document.createElement('br'));
    cap.appendChild(document.createTextNode(it.name));
    fig.appendChild(cap);
    return fig;
  }
  function readHash() {
    var state = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var p = kv.split('=');
      if (p.length === 2) {
        state[decodeURIComponent(p[0])] = decodeURIComponent(p[1]);
      }
    });
    if (orders.hasOwnProperty(state.sort)) { sortSel.value = state.sort; }
    if (filters.hasOwnProperty(state.filter)) {
      filterSel.value = state.filter;
    }
  }
  function render() {
    var keep = filters[filterSel.value], order = orders[sortSel.value];
    var shown = items.filter(keep).sort(order);
    var frag = document.createDocumentFragment();
    shown.forEach(function (it) { frag.appendChild(card(it)); });
    while (gallery.firstChild) { gallery.removeChild(gallery.firstChild); }
    gallery.appendChild(frag);
    count.textContent = shown.length + ' of ' + items.length + ' shown';
    document.body.setAttribute('data-shown', String(shown.length));
  }
  function update() {
    try {
      history.replaceState(null, '', '#sort=' + sortSel.value +
                           '&filter=' + filterSel.value);
    } catch (e) { /* a file:// context may refuse; the view still updates */ }
    render();
  }
  sortSel.addEventListener('change', update);
  filterSel.addEventListener('change', update);
  readHash();
  render();
  document.body.setAttribute('data-ready', '1');
}());
"""


def data_uri(img_bgr: np.ndarray, ext: str = '.jpg', quality: int = 88
             ) -> str:
    """Encode a BGR image as a ``data:`` URI."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == '.jpg' else []
    ok, buf = cv2.imencode(ext, img_bgr, params)
    if not ok:
        raise ValueError(f'could not encode an image as {ext}')
    mime = 'image/jpeg' if ext == '.jpg' else 'image/png'
    return f'data:{mime};base64,' + base64.b64encode(buf).decode('ascii')


def _thumb(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = size / max(h, w)
    if s >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))),
                      interpolation=cv2.INTER_AREA)


def _flat(path: str) -> str:
    """``ManipulationMapHook``'s flat name of a path without a data root."""
    return sample_name(path)


def is_predictions_dump(path: str) -> bool:
    """Whether ``path`` is a ``DumpPredictions`` JSON (a list of records
    with ``img_path`` and ``fake_score``)."""
    try:
        with open(path, 'rb') as f:
            head = f.read(4096).lstrip()
        if not head.startswith(b'['):
            return False
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(data, list) and all(
        isinstance(r, dict) and 'fake_score' in r and 'img_path' in r
        for r in data[:50])


def find_predictions(work_dir: str) -> str:
    """The ``DumpPredictions`` file (``tools/test.py --out``) in a work dir
    (searched two levels deep).

    Raises:
        FileNotFoundError: none or several were found.
    """
    cands = sorted(p for pat in ('*.json', '*/*.json', '*/*/*.json')
                   for p in glob.glob(osp.join(work_dir, pat))
                   if is_predictions_dump(p))
    if not cands:
        raise FileNotFoundError(
            f'no predictions dump in {work_dir}: run tools/test.py with '
            f'--out {osp.join(work_dir, "preds.json")} or pass --preds')
    if len(cands) > 1:
        raise FileNotFoundError(
            f'several predictions dumps in {work_dir} '
            f'({", ".join(osp.relpath(c, work_dir) for c in cands)}); '
            'choose one with --preds')
    return cands[0]


def load_predictions(path: str) -> List[dict]:
    """Read and check a ``DumpPredictions`` JSON."""
    data = load_json(path, 'predictions file')
    if not isinstance(data, list) or not data:
        raise ValueError(f'{path} holds no predictions (expected a non-empty '
                         'list from tools/test.py --out)')
    for i, r in enumerate(data):
        if not isinstance(r, dict) or 'fake_score' not in r or \
                'img_path' not in r:
            raise ValueError(f'{path}: entry {i} has no img_path/fake_score; '
                             'is this a tools/test.py --out file?')
    return data


def find_test_metrics(work_dir: str) -> Optional[str]:
    """mmengine's JSON log of the newest test run in a work dir
    (``<work_dir>/<timestamp>/<timestamp>.json``), or None."""
    cands = []
    for d in sorted(glob.glob(osp.join(work_dir, '*')), reverse=True):
        path = osp.join(d, osp.basename(d) + '.json')
        if osp.isfile(path):
            cands.append(path)
    for path in cands:
        if load_metrics(path):
            return path
    return None


_NON_METRIC = ('data_time', 'time', 'step', 'iter', 'epoch', 'memory', 'lr')


def load_metrics(path: str) -> Dict[str, float]:
    """The metrics of the last line of an mmengine JSON log (keys like
    ``forgery/auc``; timing keys dropped)."""
    metrics = {}
    for rec in load_json_lines(path):
        if any('/' in k for k in rec):
            metrics = {k: v for k, v in rec.items() if k not in _NON_METRIC}
    return metrics


def metrics_from_predictions(preds: List[dict]) -> Dict[str, float]:
    """Frame-level Acc/AUC/EER/AP (percent) from a predictions dump."""
    labelled = [p for p in preds if p.get('gt_label') is not None]
    if not labelled:
        return {}
    s = np.array([p['fake_score'] for p in labelled], dtype=np.float64)
    y = np.array([p['gt_label'] for p in labelled], dtype=np.int64)
    out = {'forgery/acc': 100 * Fn.accuracy(s, y)}
    if y.min() != y.max():
        out.update({'forgery/auc': 100 * Fn.binary_auc(s, y),
                    'forgery/eer': 100 * Fn.eer(s, y),
                    'forgery/ap': 100 * Fn.average_precision(s, y)})
    return out


class MapIndex:
    """Find ``ManipulationMapHook`` outputs (``overlay/*.jpg``,
    ``raw/*.png``) of a sample from its image path."""

    def __init__(self, maps_dir: Optional[str]) -> None:
        self.by_last: Dict[str, List[Tuple[str, str, str]]] = {}
        if not maps_dir:
            return
        for kind, ext in (('overlay', '.jpg'), ('raw', '.png')):
            for p in glob.glob(osp.join(maps_dir, kind, '*' + ext)):
                stem = osp.splitext(osp.basename(p))[0]
                self.by_last.setdefault(stem.split('__')[-1], []).append(
                    (stem, kind, p))

    def find(self, img_path: str) -> Optional[Tuple[str, str]]:
        """``(kind, path)`` of the map of ``img_path``, overlay first."""
        flat = _flat(img_path)
        best = None
        for stem, kind, p in self.by_last.get(flat.split('__')[-1], []):
            if flat == stem or flat.endswith('__' + stem):
                key = (len(stem), kind == 'overlay')
                if best is None or key > best[0]:
                    best = (key, kind, p)
        return None if best is None else (best[1], best[2])


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
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{_CSS}</style></head>
<body data-items="{len(items)}">
<h1>{esc(title)}</h1>
<p class="meta">{meta}</p>
<h2>Metrics</h2>
{metrics_html}
<h2>ROC and score distributions</h2>
<div class="plots">{plot_html or '<p>no labelled predictions</p>'}</div>
<h2>Gallery</h2>
<p class="meta">{shown}; {n_err} errors at threshold {thr}. Each card: the
face, its manipulation map overlay, the fake score, ground truth &rarr;
prediction and method. Border: green real, red fake; orange halo: error.</p>
<div id="controls">
<label>sort <select id="sort">
<option value="score-desc">score, high first</option>
<option value="score-asc">score, low first</option>
<option value="label">label (fake first)</option>
<option value="name">name</option></select></label>
<label>show <select id="filter">
<option value="all">all</option><option value="fake">fake</option>
<option value="real">real</option><option value="errors">errors</option>
</select></label><span id="count"></span></div>
<div id="gallery"></div>
<script type="application/json" id="items-data">{items_json}</script>
<script>{_JS}</script>
</body></html>
"""


def write_report(path: str, text: str, overwrite: bool = False) -> None:
    """Write the report atomically; refuse to replace a file unless
    ``overwrite``."""
    if osp.exists(path) and not overwrite:
        raise FileExistsError(f'report exists: {path} (pass --overwrite to '
                              'replace it)')
    with atomic_open(path, 'w', overwrite=overwrite) as f:
        f.write(text)
