# Copyright (c) mmfocus contributors.
"""Quality of manipulation maps against known masks, beside position priors,
accumulated in bounded memory."""
import os.path as osp
import zlib
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmfocus.registry import METRICS
from .. import functional as Fn
from .forgery_metric import binary_label_of
from .map_metric_priors import (_PRIORS, _normalise, mean_mask_prior,
                                region_pooled, region_priors)
from .map_metric_utils import (PAIR_AUC_BINS, _add_scores, _map_of, _mean,
                               _Scorer, merge_groups)

_STATE = 'MapQualityMetric.state'


@METRICS.register_module()
class MapQualityMetric(BaseMetric):
    """Manipulation-map quality against ground-truth masks, in bounded
    memory.

    Each sample's ``pred_map`` (and ``gt_mask``) is resized bilinearly to
    ``map_size`` and rounded to float16. The metrics are computed over the
    *evaluated fakes*: samples with ``gt_label == 1`` whose binarised mask
    (``gt_mask > mask_thr``) is not empty. All values are fractions in
    ``[0, 1]`` (not percentages). Map thresholds use ``map >= thr``.

    Reported keys (prefixed ``'map/'`` by default):

    * ``paired_auc`` (**the lead metric**): mean over fakes whose real twin
      (``pair_path``) was evaluated too of
      :func:`~mmfocus.evaluation.functional.paired_map_auc` (inside the true
      mask: fake map values vs. the same pixels of the twin's map). Any map
      that does not depend on the face, such as a position prior, scores
      exactly 0.5. ``paired_auc_ci_low`` / ``paired_auc_ci_high``: its 95 %
      percentile bootstrap interval over the pairs (1,000 resamples,
      ``seed``; the per-pair AUCs are kept binned to 0.001, so memory stays
      bounded and the interval does not depend on the order of the pairs).
      ``paired_auc_pooled`` pools the pixels of all pairs (binned);
      ``num_pairs`` counts the pairs and ``num_missing_twins`` the fakes
      with a ``pair_path`` that found no twin (skipped).
    * ``pixel_auc``: pooled over the pixels of all evaluated fakes (binned,
      see below).
    * IMDL-BenCo convention, per image and then averaged over the evaluated
      fakes: ``f1@<thr>`` and ``iou@<thr>`` (one pair per ``iou_thrs``
      entry, 0.5 by default), ``pixel_auc_per_image`` (fakes whose mask is
      all one class are skipped and counted in ``num_single_class_masks``)
      and ``f1_best_optimistic`` (each image's F1 at *its own* best map
      threshold: an optimistic upper bound, never a headline number).
    * ``pointing_game`` (mean over fakes) and ``num_fakes``.
    * the same metrics for position priors that never look at the face:
      ``prior_mean_mask/`` (the mean ground-truth mask of the evaluated
      fakes, i.e. a prior fitted **on the test masks themselves**),
      ``prior_gaussian/`` (a centred Gaussian) and, with
      ``region_prior_ann``, ``prior_region/`` (for each fake the mean
      *training* mask of its own ``method``; a method without training
      masks falls back to the mean of all training masks, counted in
      ``prior_region/num_unseen``). Priors are min-max normalised to
      ``[0, 1]``. Their paired AUCs are 0.5 by construction (the same map
      for the fake and its twin). Pixel AUC, F1, IoU and the pointing game
      mean something only beside them.
    * per group (``group_by``, the sample's ``method`` by default): every
      key above again as ``<group>/<key>`` (e.g. ``sbi-mouth/paired_auc``,
      ``sbi-mouth/num_fakes``): exactly what the metric reports when only
      that group's fakes (and their twins) are evaluated, so a group's
      ``prior_mean_mask`` is the mean of that group's test masks. Groups
      whose name starts with ``local_prefix`` (the region-restricted
      self-blends ``sbi-mouth``, ``sbi-eyes``, ..., i.e. every group but the
      whole-face ``sbi``) are also pooled as ``local/<key>`` when present.
    * ``auc_binning_error_bound``: the largest possible error of any binned
      AUC in the output (see below).

    **Memory.** Nothing per sample is kept. Per-image metrics are computed
    in :meth:`process` and summed; the pooled AUCs of the maps use
    ``auc_bins`` equal-width bins over ``[0, 1]`` of positive / negative
    pixel counts per group. A pair in one bin counts 1/2, so a binned AUC
    differs from the exact one on the float16 maps by at most
    :func:`~mmfocus.evaluation.functional.histogram_auc_error` (about
    ``1 / (2 * auc_bins)`` for maps spread over ``[0, 1]``; 0 when no bin
    holds both classes, e.g. binary maps). Values outside ``[0, 1]`` are
    clipped into the end bins (warned; the bound still holds). The priors'
    pooled pixel AUCs are exact (per-pixel mask counts). A fake's map waits
    (float16 map and bit-packed mask) until its twin arrives, and every
    real's map is kept for later fakes that name it (FF++ has four fakes per
    real frame), at most ``max_pending`` maps in all: beyond that, reals
    already matched go first, then the oldest map. Twins further apart than
    about ``max_pending`` samples in the evaluation order are lost and
    counted in ``num_missing_twins`` (with a warning). The mean-mask prior's
    map is known only at the end: its pooled AUC stays exact (running mask
    sum and per-pixel counts), its per-image means use a uniform reservoir
    sample of ``prior_sample_size`` bit-packed masks per group (exact while
    a group has no more fakes; ``prior_mean_mask/num_sampled`` says how many
    were used).

    **Distributed evaluation.** ``self.results`` holds one entry: this
    rank's running state (sums, histograms, pending maps), updated in place;
    mmengine's ``collect_results`` gathers one state per rank and
    :meth:`compute_metrics` merges them, pairing the fakes and twins that
    ended on different ranks from the pending maps. With an interleaving
    sampler most pairs straddle ranks, so each rank carries up to
    ``max_pending`` maps to the end (raise it, or use None, for large
    distributed test sets). Samples the sampler pads (at most
    ``world_size - 1``) are counted twice.

    Without any ``gt_mask`` a warning is logged and ``{}`` returned.

    Args:
        map_size (tuple[int, int], optional): ``(h, w)`` maps and masks are
            compared at. None uses the first sample's mask size (its map's
            without a mask). Defaults to ``(56, 56)``.
        mask_thr (float): Mask binarisation threshold. Defaults to 0.5.
        iou_thrs (Sequence[float]): Map thresholds for ``iou@<thr>`` and
            ``f1@<thr>``. Defaults to ``(0.5, )``.
        priors (bool): Also report the position priors. Defaults to True.
        gaussian_sigma (float): Sigma of the Gaussian prior as a fraction of
            the map height/width. Defaults to 0.25.
        map_key (str): Sample key of the predicted map. Defaults to
            ``'pred_map'``.
        mask_key (str): Sample key of the ground-truth mask. Defaults to
            ``'gt_mask'``.
        group_by (str, optional): Sample key that groups the fakes; None
            reports no groups. Defaults to ``'method'``.
        local_prefix (str, optional): Groups starting with it are pooled as
            ``local/``; None reports no such aggregate. Defaults to
            ``'sbi-'``.
        region_prior_ann (str, optional): mmengine BaseDataset annotation
            JSON of the *training* split; its fakes' masks (``mask_path``,
            ``method``) make the per-region prior. Tried as given, then
            under ``data_root``. Defaults to None (no region prior).
        data_root (str, optional): Root of the annotation's ``mask_path``
            values. Defaults to None (the annotation's folder).
        auc_bins (int): Bins of the pooled map AUCs. Defaults to 1024.
        max_pending (int, optional): Most maps held for pairing; None holds
            every one needed (exact, unbounded). Defaults to 8192 (about
            50 MB at 56x56).
        prior_sample_size (int): Masks per group kept for the mean-mask
            prior's per-image metrics. Defaults to 4096.
        seed (int): Seed of that reservoir sample. Defaults to 0.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to None (uses ``'map'``).
        collect_dir (str, optional): Defaults to None.
    """
    default_prefix: Optional[str] = 'map'

    def __init__(self,
                 map_size: Optional[Tuple[int, int]] = (56, 56),
                 mask_thr: float = 0.5,
                 iou_thrs: Sequence[float] = (0.5, ),
                 priors: bool = True,
                 gaussian_sigma: float = 0.25,
                 map_key: str = 'pred_map',
                 mask_key: str = 'gt_mask',
                 group_by: Optional[str] = 'method',
                 local_prefix: Optional[str] = 'sbi-',
                 region_prior_ann: Optional[str] = None,
                 data_root: Optional[str] = None,
                 auc_bins: int = 1024,
                 max_pending: Optional[int] = 8192,
                 prior_sample_size: int = 4096,
                 seed: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device,
                         prefix=prefix,
                         collect_dir=collect_dir)
        self.map_size = None if map_size is None else (int(map_size[0]),
                                                       int(map_size[1]))
        self.mask_thr = float(mask_thr)
        self.iou_thrs = tuple(float(t) for t in iou_thrs)
        self.priors = bool(priors)
        self.gaussian_sigma = float(gaussian_sigma)
        self.map_key = map_key
        self.mask_key = mask_key
        self.group_by = group_by
        self.local_prefix = local_prefix
        self.auc_bins = int(auc_bins)
        if self.auc_bins < 1:
            raise ValueError(f'auc_bins must be >= 1, got {auc_bins}')
        self.max_pending = None if max_pending is None else int(max_pending)
        if self.max_pending is not None and self.max_pending < 0:
            raise ValueError(f'max_pending must be >= 0 or None, got '
                             f'{max_pending}')
        self.prior_sample_size = int(prior_sample_size)
        self.seed = int(seed)
        self.data_root = data_root
        # resolved when first needed: a relative name may live under the
        # evaluated dataset's data_root (FaceForgeryDataset puts it in its
        # metainfo), which is known only once the runner sets dataset_meta
        self._region_prior_raw = None if region_prior_ann is None else \
            str(region_prior_ann)
        self._region_prior_path: Optional[str] = None
        self._gauss: Optional[Tuple[tuple, np.ndarray, _Scorer]] = None
        self._region: Optional[dict] = None  # loaded once per shape

    @property
    def region_prior_ann(self) -> Optional[str]:
        """The training annotation of the region prior: tried as given,
        under ``data_root``, then under the evaluated dataset's
        ``data_root`` (``dataset_meta['data_root']``); None without one.

        Raises:
            FileNotFoundError: it is set but found nowhere.
        """
        raw = self._region_prior_raw
        if raw is None or self._region_prior_path is not None:
            return self._region_prior_path
        roots = [self.data_root,
                 (getattr(self, '_dataset_meta', None) or {}).get(
                     'data_root')]
        tried = [raw] + [osp.join(r, raw) for r in roots
                         if r and not osp.isabs(raw)]
        for ann in tried:
            if osp.isfile(ann):
                self._region_prior_path = ann
                return ann
        raise FileNotFoundError(
            f'MapQualityMetric: region_prior_ann not found: {raw} (tried '
            f'{", ".join(tried)})')

    # ------------------------------------------------------------ priors
    def _gaussian(self, shape: tuple) -> Tuple[np.ndarray, _Scorer]:
        if self._gauss is None or self._gauss[0] != shape:
            prior = _normalise(
                Fn.gaussian_prior(shape[0], shape[1], self.gaussian_sigma))
            self._gauss = (shape, prior, _Scorer(prior, self.iou_thrs))
        return self._gauss[1], self._gauss[2]

    def _region_priors(self, shape: tuple) -> dict:
        """``{'shape', 'maps': {method: prior}, 'fallback', 'scorers'}``
        from the training annotation's fake masks (read once per shape)."""
        if self._region is not None and self._region['shape'] == shape:
            return self._region
        ann = self.region_prior_ann
        assert ann is not None
        self._region = region_priors(ann, self.data_root, shape,
                                     self.iou_thrs)
        return self._region

    # ------------------------------------------------------------- state
    def _state(self) -> dict:
        """This rank's running state: ``self.results[0]``, made on the
        first sample after a reset (mmengine clears ``results`` after each
        evaluation)."""
        if self.results:
            st = self.results[0]
            if not (isinstance(st, dict) and st.get('kind') == _STATE):
                raise RuntimeError('MapQualityMetric: self.results holds '
                                   'entries it did not make')
            return st
        st = dict(kind=_STATE, shape=None, bins=self.auc_bins,
                  seen_mask=False, num_samples=0, groups={}, pending={},
                  used={}, waiting={}, evicted=0, out_of_range=0)
        self.results.append(st)
        return st

    def _new_group(self, name: Optional[str], shape: tuple) -> dict:
        seed = [self.seed, zlib.crc32(str(name).encode())]
        return dict(n_fakes=0, n_twin_paths=0, n_pairs=0, sums={},
                    pair_hist=np.zeros(PAIR_AUC_BINS + 1, np.int64),
                    pix=np.zeros((2, self.auc_bins), np.int64),
                    pair=np.zeros((2, self.auc_bins), np.int64),
                    mask_sum=np.zeros(shape, np.float64), methods={},
                    unseen={},
                    strata=[dict(n=0, items=[],
                                 rng=np.random.default_rng(seed))])

    def _group_of(self, sample: dict) -> Optional[str]:
        if self.group_by is None:
            return None
        value = sample.get(self.group_by)
        return None if value is None else str(value).replace('/', '_')

    def _hist(self, values: np.ndarray) -> np.ndarray:
        return Fn.score_histogram(values, self.auc_bins)

    def _pair(self, g: dict, fake_map: np.ndarray, twin_map: np.ndarray,
              gt: np.ndarray) -> None:
        """Score one (fake, twin) pair into group ``g``."""
        auc = Fn.paired_map_auc(fake_map, twin_map, gt.astype(np.float32))
        _add_scores(g['sums'], '', dict(paired_auc=np.array([auc])))
        if np.isfinite(auc):
            g['pair_hist'][int(round(float(auc) * PAIR_AUC_BINS))] += 1
        g['n_pairs'] += 1
        g['pair'][0] += self._hist(fake_map[gt])
        g['pair'][1] += self._hist(twin_map[gt])

    def _evict(self, st: dict) -> None:
        """Drop maps beyond ``max_pending``: reals already matched first
        (only another fake of the same real needs them), then the oldest
        unmatched real or waiting fake."""
        if self.max_pending is None:
            return
        pending, used = st['pending'], st['used']
        while len(pending) + len(used) > self.max_pending:
            st['evicted'] += 1
            if used:
                used.pop(next(iter(used)))
                continue
            key = next(iter(pending))
            value = pending.pop(key)
            if key[0] == 'f':
                waiting = st['waiting'].get(value['pair'], [])
                if key[1] in waiting:
                    waiting.remove(key[1])
                if not waiting:
                    st['waiting'].pop(value['pair'], None)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Score each fake at once; keep maps only while their pair is
        incomplete.

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict]): Predicted ``DataSample.to_dict()``
                outputs with ``img_path``, ``gt_label``, ``pred_map`` and
                optionally ``gt_mask``, ``pair_path`` and ``method``.
        """
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            img_path = sample.get('img_path')
            if img_path is None:
                raise KeyError("MapQualityMetric: a data sample has no "
                               "'img_path' (needed to find real twins)")
            img_path = str(img_path)
            pred = _map_of(sample, self.map_key)
            if pred is None:
                raise KeyError(f"MapQualityMetric: data sample {img_path} "
                               f"has no '{self.map_key}'")
            mask = _map_of(sample, self.mask_key)
            label = binary_label_of(sample)
            st = self._state()
            if st['shape'] is None:
                st['shape'] = self.map_size or (mask.shape if mask is not None
                                                else pred.shape)
            shape = tuple(st['shape'])
            m16 = Fn.resize_map(pred, shape).astype(np.float16)
            if not np.isfinite(m16).all():
                raise ValueError(f"MapQualityMetric: '{self.map_key}' of "
                                 f'{img_path} has NaN or inf values')
            st['num_samples'] += 1
            st['out_of_range'] += int(((m16 < 0) | (m16 > 1)).sum())
            st['seen_mask'] |= mask is not None
            if label == 0:
                self._add_real(st, img_path, m16)
            elif mask is not None:
                k16 = Fn.resize_map(mask, shape).astype(np.float16)
                self._add_fake(st, sample, img_path, m16, k16, shape)

    def _add_real(self, st: dict, path: str, m16: np.ndarray) -> None:
        matched = path in st['used']
        for fake in st['waiting'].pop(path, ()):
            f = st['pending'].pop(('f', fake), None)
            if f is not None:
                gt = np.unpackbits(f['gt'], count=m16.size).astype(bool)
                self._pair(st['groups'][f['group']], f['map'],
                           m16, gt.reshape(m16.shape))
                matched = True
        if matched:  # kept for later fakes of the same real (FF++: 4)
            st['pending'].pop(('r', path), None)
            st['used'][path] = m16
        else:
            st['pending'][('r', path)] = m16
        self._evict(st)

    def _add_fake(self, st: dict, sample: dict, path: str, m16: np.ndarray,
                  k16: np.ndarray, shape: tuple) -> None:
        gt = k16 > self.mask_thr
        if not gt.any():
            return  # nothing to localise (e.g. a blend ratio below 0.5)
        name = self._group_of(sample)
        g = st['groups'].get(name)
        if g is None:
            g = st['groups'][name] = self._new_group(name, shape)
        flat = gt.reshape(1, -1)
        _add_scores(g['sums'], '', _Scorer(m16, self.iou_thrs)(flat))
        g['pix'][0] += self._hist(m16[gt])
        g['pix'][1] += self._hist(m16[~gt])
        g['n_fakes'] += 1
        if self.priors:
            _add_scores(g['sums'], 'prior_gaussian/',
                        self._gaussian(shape)[1](flat))
            method = sample.get('method')
            method = None if method is None else str(method)
            if self.region_prior_ann is not None:
                region = self._region_priors(shape)
                scorer = region['scorers'].get(method)
                if scorer is None:
                    scorer = region['fallback_scorer']
                    g['unseen'][method] = g['unseen'].get(method, 0) + 1
                _add_scores(g['sums'], 'prior_region/', scorer(flat))
            g['mask_sum'] += k16
            m = g['methods'].get(method)
            if m is None:
                m = g['methods'][method] = dict(n=0,
                                                pos=np.zeros(shape, np.int64))
            m['n'] += 1
            m['pos'] += gt
            stratum = g['strata'][0]
            stratum['n'] += 1
            bits = np.packbits(gt.reshape(-1))
            if len(stratum['items']) < self.prior_sample_size:
                stratum['items'].append(bits)
            else:
                j = int(stratum['rng'].integers(stratum['n']))
                if j < self.prior_sample_size:
                    stratum['items'][j] = bits
        pair = sample.get('pair_path')
        if not pair:
            return
        pair = str(pair)
        g['n_twin_paths'] += 1
        twin = st['used'].get(pair)
        if twin is None:
            twin = st['pending'].pop(('r', pair), None)
            if twin is not None:
                st['used'][pair] = twin
        if twin is not None:
            self._pair(g, m16, twin, gt)
            return
        st['pending'][('f', path)] = dict(group=name, map=m16, pair=pair,
                                          gt=np.packbits(gt.reshape(-1)))
        st['waiting'].setdefault(pair, []).append(path)
        self._evict(st)

    # ----------------------------------------------------------- compute
    def _scores(self, g: dict, shape: tuple,
                bounds: List[float]) -> Dict[str, float]:
        """Every key of one group (or of all fakes)."""
        s = g['sums']
        out: Dict[str, float] = dict(paired_auc=_mean(s, 'paired_auc'))
        # 95 % percentile bootstrap of the mean over the pairs
        out['paired_auc_ci_low'], out['paired_auc_ci_high'] = \
            Fn.histogram_bootstrap_interval(g['pair_hist'], seed=self.seed)
        out['paired_auc_pooled'] = Fn.histogram_auc(*g['pair'])
        # floats: mmengine's LoggerHook writes ints as null in its JSON
        out['num_pairs'] = float(g['n_pairs'])
        out['num_missing_twins'] = float(g['n_twin_paths'] - g['n_pairs'])
        out['pixel_auc'] = Fn.histogram_auc(*g['pix'])
        bounds += [Fn.histogram_auc_error(*g['pair']),
                   Fn.histogram_auc_error(*g['pix'])]
        per_image = ['pixel_auc_per_image'] + [
            f'iou@{t:g}' for t in self.iou_thrs
        ] + [f'f1@{t:g}' for t in self.iou_thrs
             ] + ['f1_best_optimistic', 'pointing_game']
        out['pixel_auc_per_image'] = _mean(s, 'pixel_auc_per_image')
        counted = s.get('pixel_auc_per_image', np.zeros(2))[1]
        out['num_single_class_masks'] = float(g['n_fakes'] - counted)
        for k in per_image[1:]:
            out[k] = _mean(s, k)
        out['num_fakes'] = float(g['n_fakes'])
        if not self.priors:
            return out
        half = 0.5 if g['n_pairs'] else float('nan')
        names = list(_PRIORS if self.region_prior_ann else _PRIORS[:2])
        for name in names:
            if name == 'prior_mean_mask':
                vals = mean_mask_prior(g, shape, self.iou_thrs)
            else:
                vals = {k: _mean(s, f'{name}/{k}') for k in per_image}
                if name == 'prior_gaussian':
                    prior = self._gaussian(shape)[0]
                    pos = sum(m['pos'] for m in g['methods'].values())
                    vals['pixel_auc'] = Fn.weighted_auc(
                        prior, pos, g['n_fakes'] - pos)
                else:
                    vals['pixel_auc'] = region_pooled(
                        self._region_priors(shape), g)
                    vals['num_unseen'] = float(sum(g['unseen'].values()))
            # the same map for the fake and its twin: positives and
            # negatives are one multiset, so the AUC is 1/2 exactly
            vals['paired_auc'] = vals['paired_auc_pooled'] = half
            order = ['paired_auc', 'paired_auc_pooled', 'pixel_auc'
                     ] + per_image + ['num_sampled', 'num_unseen']
            out.update({f'{name}/{k}': vals[k] for k in order if k in vals})
        return out

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Merge the ranks' states, pair what is left, compute the metrics.

        Args:
            results (list[dict]): The states made by :meth:`process`, one
                per rank.

        Returns:
            dict[str, float]: See the class docstring; ``{}`` when no sample
            has a mask.
        """
        logger = MMLogger.get_current_instance()
        states = [
            r for r in results
            if isinstance(r, dict) and r.get('kind') == _STATE
        ]
        n_samples = sum(s['num_samples'] for s in states)
        if not any(s['seen_mask'] for s in states):
            logger.warning(
                f'MapQualityMetric: none of the {n_samples} samples has '
                f"'{self.mask_key}'; map quality is not measured.")
            return {}
        shapes = {tuple(s['shape']) for s in states if s['shape']}
        if len(shapes) > 1:
            raise ValueError(f'MapQualityMetric: ranks compared maps at '
                             f'different sizes {sorted(shapes)}; set '
                             'map_size')
        shape = shapes.pop()
        names = sorted({n for s in states for n in s['groups']},
                       key=lambda n: (n is not None, str(n)))
        groups = {
            n: merge_groups(s['groups'][n] for s in states
                            if n in s['groups'])
            for n in names
        }
        # pairs whose fake and twin ended on different ranks
        reals = {}
        for s in states:
            reals.update(s['used'])
            reals.update({
                k[1]: v
                for k, v in s['pending'].items() if k[0] == 'r'
            })
        for s in states:
            for k, f in s['pending'].items():
                if k[0] == 'f' and f['pair'] in reals:
                    gt = np.unpackbits(f['gt'], count=int(np.prod(shape)))
                    self._pair(groups[f['group']], f['map'], reals[f['pair']],
                               gt.astype(bool).reshape(shape))
        if not groups or not sum(g['n_fakes'] for g in groups.values()):
            logger.warning('MapQualityMetric: no fake sample with a '
                           'non-empty mask; map quality is not measured.')
            return {}
        bounds: List[float] = []
        everything = merge_groups(groups.values())
        metrics = self._scores(everything, shape, bounds)
        self._warn(logger, everything, states)
        for n in names:
            if n is not None:
                metrics.update({
                    f'{n}/{k}': v
                    for k, v in self._scores(groups[n], shape,
                                             bounds).items()
                })
        local = [
            groups[n] for n in names if n is not None and self.local_prefix
            and n.startswith(self.local_prefix)
        ]
        if local:
            metrics.update({
                f'local/{k}': v
                for k, v in self._scores(merge_groups(local), shape,
                                         bounds).items()
            })
        finite = [b for b in bounds if np.isfinite(b)]
        metrics['auc_binning_error_bound'] = max(finite) if finite else 0.0
        return {k: float(v) for k, v in metrics.items()}

    def _warn(self, logger, g: dict, states: List[dict]) -> None:
        missing = g['n_twin_paths'] - g['n_pairs']
        evicted = sum(s['evicted'] for s in states)
        why = (f' or was dropped from the pending buffer ({evicted} maps '
               f'evicted at max_pending={self.max_pending}; raise it or keep '
               'fakes near their twins)' if evicted else '')
        if not g['n_pairs']:
            logger.warning('MapQualityMetric: no fake has its real twin '
                           f'(pair_path) among the results{why}; paired AUC '
                           'is nan.')
        elif missing:
            logger.warning(f'MapQualityMetric: {missing} fakes skipped for '
                           'paired AUC: their real twin was not '
                           f'evaluated{why}.')
        out = sum(s['out_of_range'] for s in states)
        if out:
            logger.warning(f'MapQualityMetric: {out} map pixels outside '
                           '[0, 1] were clipped into the end bins of the '
                           'binned AUCs (see auc_binning_error_bound); '
                           'F1/IoU thresholds assume maps in [0, 1].')
        if g['unseen']:
            logger.warning(
                'MapQualityMetric: prior_region: no training masks for '
                'method(s) ' +
                ', '.join(f'{m} ({n} fakes)' for m, n in sorted(
                    g['unseen'].items(), key=lambda x: str(x[0]))) +
                '; they use the mean of all training masks.')
