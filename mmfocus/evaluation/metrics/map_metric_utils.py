# Copyright (c) mmfocus contributors.
"""Per-image scoring and running accumulation of
:class:`~mmfocus.evaluation.metrics.map_metric.MapQualityMetric`: the map
of a sample, the scorer of one map against many masks, the running
``[sum, count]`` pairs and the merge of per-group states."""
from typing import Dict, Iterable, Optional, Sequence

import numpy as np

from .. import functional as Fn
from .forgery_metric import _to_numpy


def _map_of(sample: dict, key: str) -> Optional[np.ndarray]:
    """A 2-D float32 map stored under ``key`` (tensor, array or PixelData
    dict), or None when the key is absent."""
    value = sample.get(key)
    if value is None:
        return None
    try:
        return Fn._squeeze_2d(_to_numpy(value).astype(np.float32))
    except ValueError as e:
        raise ValueError(f"'{key}' of {sample.get('img_path')}: {e}") from e


class _Scorer:
    """Per-image scores of one map against ``(K, H*W)`` binary masks: pixel
    AUC, IoU / F1 at the thresholds, best-threshold F1, pointing game.

    Built once per model map, or once per position prior and reused for
    every fake (the prior's pixel order is sorted once).
    """

    def __init__(self, map2d: np.ndarray, thrs: Sequence[float]) -> None:
        v = np.asarray(map2d, np.float32).reshape(-1)
        self.thrs = tuple(thrs)
        self.rank = Fn._MapRanking(v)
        self.preds = np.stack([v >= t for t in self.thrs]).astype(np.float64)
        self.n_pred = self.preds.sum(1)
        self.at_max = (v == v.max()).astype(np.float64)

    def __call__(self, gt: np.ndarray) -> Dict[str, np.ndarray]:
        gt = np.atleast_2d(gt)
        gtf = gt.astype(np.float64)
        n_pos = gtf.sum(1)
        tp = gtf @ self.preds.T  # (K, T)
        out = dict(pixel_auc_per_image=self.rank.auc(gt))
        with np.errstate(invalid='ignore', divide='ignore'):
            union = n_pos[:, None] + self.n_pred[None] - tp
            iou = np.where(union > 0, tp / union, np.nan)
            both = n_pos[:, None] + self.n_pred[None]
            f1 = np.where(both > 0, 2 * tp / both, np.nan)
            pg = np.where(n_pos > 0, gtf @ self.at_max / self.at_max.sum(),
                          np.nan)
        for i, t in enumerate(self.thrs):
            out[f'iou@{t:g}'] = iou[:, i]
        for i, t in enumerate(self.thrs):
            out[f'f1@{t:g}'] = f1[:, i]
        out['f1_best_optimistic'] = self.rank.best_f1(gt)
        out['pointing_game'] = pg
        return out


def _add_scores(sums: dict, prefix: str, scores: Dict[str, np.ndarray],
                weight: float = 1.0) -> None:
    """Add per-image scores to running ``[sum, count]`` pairs (nan skipped;
    ``weight`` scales both, for a sampled stratum)."""
    for k, v in scores.items():
        v = np.asarray(v, np.float64)
        ok = ~np.isnan(v)
        acc = sums.setdefault(prefix + k, np.zeros(2))
        acc[0] += weight * v[ok].sum()
        acc[1] += weight * ok.sum()


def _mean(sums: dict, key: str) -> float:
    acc = sums.get(key)
    if acc is None or acc[1] <= 0:
        return float('nan')
    return float(acc[0] / acc[1])


#: Per-pair paired map-AUCs are kept as counts in bins of 1 / PAIR_AUC_BINS.
PAIR_AUC_BINS = 1000


def merge_groups(groups: Iterable[dict]) -> dict:
    """A new group holding the sum of ``groups`` (not modified): the
    counts, score sums, histograms and mask sums added, the reservoir
    strata collected."""
    groups = list(groups)
    first = groups[0]
    out = dict(n_fakes=0, n_twin_paths=0, n_pairs=0, sums={},
               pair_hist=np.zeros_like(first['pair_hist']),
               pix=np.zeros_like(first['pix']),
               pair=np.zeros_like(first['pair']),
               mask_sum=np.zeros_like(first['mask_sum']), methods={},
               unseen={}, strata=[])
    for g in groups:
        for k in ('n_fakes', 'n_twin_paths', 'n_pairs'):
            out[k] += g[k]
        out['pair_hist'] = out['pair_hist'] + g['pair_hist']
        for k, v in g['sums'].items():
            out['sums'][k] = out['sums'].get(k, 0.) + v
        for k in ('pix', 'pair', 'mask_sum'):
            out[k] = out[k] + g[k]
        for m, v in g['methods'].items():
            o = out['methods'].setdefault(
                m, dict(n=0, pos=np.zeros_like(v['pos'])))
            o['n'] += v['n']
            o['pos'] = o['pos'] + v['pos']
        for m, n in g['unseen'].items():
            out['unseen'][m] = out['unseen'].get(m, 0) + n
        out['strata'] += [s for s in g['strata'] if s['n']]
    return out
