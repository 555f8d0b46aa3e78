# Copyright (c) mmfocus contributors.
"""What a report reads from a work dir: the ``DumpPredictions`` file
(``tools/test.py --out``), the test metrics of mmengine's JSON log (or
frame-level ones computed from the predictions) and the
``ManipulationMapHook`` outputs of each sample.
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from mmfocus.evaluation import functional as Fn
from mmfocus.utils.io import (load_json, load_json_lines, peek_json,
                              sample_name)


def _flat(path: str) -> str:
    """``ManipulationMapHook``'s flat name of a path without a data root."""
    return sample_name(path)


def is_predictions_dump(path: str) -> bool:
    """Whether ``path`` is a ``DumpPredictions`` JSON (a list of records
    with ``img_path`` and ``fake_score``)."""
    try:
        with open(path, 'rb') as f:
            head = f.read(4096).lstrip()
    except OSError:
        return False
    if not head.startswith(b'['):
        return False
    data = peek_json(path)
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
