# Copyright (c) mmfocus contributors.
"""The position priors of
:class:`~mmfocus.evaluation.metrics.map_metric.MapQualityMetric`, maps that
never look at the face: normalisation, the per-region prior from the
training masks and the scores of the mean-test-mask prior."""
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmfocus.utils.io import imread_checked, load_json
from .. import functional as Fn
from .map_metric_utils import _add_scores, _mean, _Scorer

_PRIORS = ('prior_mean_mask', 'prior_gaussian', 'prior_region')
_CHUNK = 256  # masks scored at once by a fixed-map scorer


def _normalise(prior: np.ndarray) -> np.ndarray:
    """Min-max normalise a prior to ``[0, 1]`` (float16, like the maps)."""
    lo, hi = float(prior.min()), float(prior.max())
    prior = (prior - lo) / (hi - lo) if hi > lo else np.zeros_like(prior)
    return prior.astype(np.float16)


def region_priors(ann: str, data_root: Optional[str], shape: tuple,
                  iou_thrs: Sequence[float]) -> dict:
    """``{'shape', 'maps': {method: prior}, 'fallback', 'scorers',
    'fallback_scorer'}`` from the fake masks of the training annotation
    ``ann`` (their ``mask_path`` under ``data_root``, else the
    annotation's folder), resized to ``shape``."""
    import cv2

    data = load_json(ann, 'region_prior_ann')
    entries = data.get('data_list') if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ValueError(f'MapQualityMetric: region_prior_ann {ann} has '
                         "no 'data_list'")
    root = data_root if data_root else osp.dirname(ann)
    sums: Dict[str, np.ndarray] = {}
    counts: Dict[str, int] = {}
    for e in entries:
        if int(e.get('gt_label', 0)) != 1 or not e.get('mask_path'):
            continue
        path = e['mask_path']
        path = path if osp.isabs(path) else osp.join(root, path)
        mask = imread_checked(path, cv2.IMREAD_UNCHANGED)
        if mask.ndim == 3:
            mask = mask[..., 0]
        scale = 65535. if mask.dtype == np.uint16 else 255.
        mask = Fn.resize_map(mask.astype(np.float32) / scale, shape)
        method = str(e.get('method', 'fake'))
        sums[method] = sums.get(method, 0.) + mask.astype(np.float64)
        counts[method] = counts.get(method, 0) + 1
    if not counts:
        raise ValueError(f'MapQualityMetric: region_prior_ann {ann} has '
                         'no fake entry with a mask_path')
    maps = {m: _normalise(sums[m] / counts[m]) for m in sums}
    fallback = _normalise(sum(sums.values()) / sum(counts.values()))
    MMLogger.get_current_instance().info(
        f'MapQualityMetric: region prior from {sum(counts.values())} '
        f'training masks of {len(counts)} methods ({ann}): ' +
        ', '.join(f'{m} {counts[m]}' for m in sorted(counts)))
    return dict(
        shape=shape, maps=maps, fallback=fallback,
        scorers={m: _Scorer(p, iou_thrs)
                 for m, p in maps.items()},
        fallback_scorer=_Scorer(fallback, iou_thrs))


def region_pooled(region: dict, g: dict) -> float:
    """Exact pooled pixel AUC of the region prior (``region``, from
    :func:`region_priors`) over the fakes of group ``g``: each method's
    prior, weighted by its per-pixel mask counts."""
    scores, pos, neg = [], [], []
    for m, v in g['methods'].items():
        scores.append(region['maps'].get(m, region['fallback']).ravel())
        pos.append(v['pos'].ravel())
        neg.append(v['n'] - v['pos'].ravel())
    return Fn.weighted_auc(np.concatenate(scores), np.concatenate(pos),
                           np.concatenate(neg))


def mean_mask_prior(g: dict, shape: tuple,
                    iou_thrs: Sequence[float]) -> Dict[str, float]:
    """Pooled (exact) and per-image (reservoir) scores of the mean test
    mask of group ``g``."""
    prior = _normalise(g['mask_sum'] / g['n_fakes'])
    pos = sum(m['pos'] for m in g['methods'].values())
    out = dict(pixel_auc=Fn.weighted_auc(prior, pos, g['n_fakes'] - pos))
    scorer, sums, sampled = _Scorer(prior, iou_thrs), {}, 0
    size = int(np.prod(shape))
    for s in g['strata']:
        if not s['items']:
            continue
        sampled += len(s['items'])
        weight = s['n'] / len(s['items'])
        for i in range(0, len(s['items']), _CHUNK):
            gt = np.stack([
                np.unpackbits(b, count=size)
                for b in s['items'][i:i + _CHUNK]
            ]).astype(bool)
            _add_scores(sums, '', scorer(gt), weight)
    out.update({k: _mean(sums, k) for k in sums})
    out['num_sampled'] = float(sampled)
    return out
