# Copyright (c) mmfocus contributors.
"""Quality of manipulation maps against known masks, beside position priors."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmfocus.registry import METRICS
from .. import functional as Fn
from .forgery_metric import _to_numpy, binary_label_of


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


@METRICS.register_module()
class MapQualityMetric(BaseMetric):
    """Manipulation-map quality against ground-truth masks.

    Each sample's ``pred_map`` (and ``gt_mask``, where given) is resized
    bilinearly to ``map_size`` and kept as float16, keyed by ``img_path``.
    The metrics are computed over the *evaluated fakes*: samples with
    ``gt_label == 1`` whose binarised mask (``gt_mask > mask_thr``) is not
    empty. All values are fractions in ``[0, 1]`` (not percentages).

    Reported keys (prefixed ``'map/'`` by default):

    * ``paired_auc``: mean over fakes whose real twin (``pair_path``) was
      evaluated too of :func:`~mmfocus.evaluation.functional.paired_map_auc`
      (inside the true mask: fake map values vs. the same pixels of the
      twin's map). Any map that does not depend on the face, such as a
      position prior, scores exactly 0.5. ``paired_auc_pooled`` pools the
      pixels of all pairs; ``num_pairs`` counts the pairs and
      ``num_missing_twins`` the fakes whose ``pair_path`` was not among the
      results (skipped).
    * ``pixel_auc`` (pooled over the pixels of all evaluated fakes),
      ``iou@<thr>`` (mean over fakes, map ``>= thr``) and ``pointing_game``
      (mean over fakes), plus ``num_fakes``.
    * the same five metrics (paired AUC, pixel AUC, IoU, pointing game) for
      two position priors that never look at the face, under
      ``prior_mean_mask/`` (the mean ground-truth mask of the evaluated
      fakes, i.e. a prior fitted on the test masks themselves) and
      ``prior_gaussian/`` (a centred Gaussian). Priors are min-max
      normalised to ``[0, 1]`` like the model maps. On aligned faces they
      reach pixel AUC ~0.99: pixel AUC, IoU and the pointing game mean
      something only beside them, while paired AUC separates them (0.5).

    Without any ``gt_mask`` a warning is logged and ``{}`` returned.

    Args:
        map_size (tuple[int, int], optional): ``(h, w)`` maps and masks are
            stored at. None keeps the mask size (the map is resized to it).
            Defaults to ``(56, 56)``.
        mask_thr (float): Mask binarisation threshold. Defaults to 0.5.
        iou_thrs (Sequence[float]): Map thresholds for ``iou@<thr>``.
            Defaults to ``(0.5, )``.
        priors (bool): Also report the position priors. Defaults to True.
        gaussian_sigma (float): Sigma of the Gaussian prior as a fraction of
            the map height/width. Defaults to 0.25.
        map_key (str): Sample key of the predicted map. Defaults to
            ``'pred_map'``.
        mask_key (str): Sample key of the ground-truth mask. Defaults to
            ``'gt_mask'``.
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

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep each sample's map (and a fake's mask) as small float16
        arrays.

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict]): Predicted ``DataSample.to_dict()``
                outputs with ``img_path``, ``gt_label``, ``pred_map`` and
                optionally ``gt_mask`` and ``pair_path``.
        """
        for sample in data_samples:
            if not isinstance(sample, dict):
                sample = sample.to_dict()
            img_path = sample.get('img_path')
            if img_path is None:
                raise KeyError("MapQualityMetric: a data sample has no "
                               "'img_path' (needed to find real twins)")
            pred = _map_of(sample, self.map_key)
            if pred is None:
                raise KeyError(f"MapQualityMetric: data sample {img_path} "
                               f"has no '{self.map_key}'")
            mask = _map_of(sample, self.mask_key)
            label = binary_label_of(sample)
            size = self.map_size or (mask.shape
                                     if mask is not None else pred.shape)
            self.results.append(
                dict(
                    img_path=str(img_path),
                    pair_path=sample.get('pair_path'),
                    label=label,
                    map=Fn.resize_map(pred, size).astype(np.float16),
                    has_mask=mask is not None,
                    # reals' masks are all zeros: do not keep them
                    mask=(Fn.resize_map(mask, size).astype(np.float16)
                          if mask is not None and label == 1 else None)))

    def _map_scores(self, maps: List[np.ndarray],
                    masks: List[np.ndarray]) -> Dict[str, float]:
        """Pixel AUC, IoU@thr and pointing game of maps over fakes."""
        out = dict(pixel_auc=Fn.binary_auc(
            np.concatenate([m.reshape(-1) for m in maps]),
            np.concatenate([k.reshape(-1) for k in masks]) > self.mask_thr))
        for t in self.iou_thrs:
            out[f'iou@{t:g}'] = float(
                np.nanmean([
                    Fn.iou_at(m, k, t, self.mask_thr)
                    for m, k in zip(maps, masks)
                ]))
        out['pointing_game'] = float(
            np.nanmean([
                Fn.pointing_game(m, k, self.mask_thr)
                for m, k in zip(maps, masks)
            ]))
        return out

    def _paired(self, maps: List[np.ndarray], twins: List[np.ndarray],
                masks: List[np.ndarray]) -> Dict[str, float]:
        """Mean and pooled paired AUC over (fake, twin, mask) triplets."""
        if not maps:
            return dict(paired_auc=np.nan, paired_auc_pooled=np.nan)
        aucs = [
            Fn.paired_map_auc(m, t, k, self.mask_thr)
            for m, t, k in zip(maps, twins, masks)
        ]
        inside = [k > self.mask_thr for k in masks]
        pos = np.concatenate([m[i] for m, i in zip(maps, inside)])
        neg = np.concatenate([t[i] for t, i in zip(twins, inside)])
        labels = np.r_[np.ones(pos.size, bool), np.zeros(neg.size, bool)]
        return dict(paired_auc=float(np.nanmean(aucs)),
                    paired_auc_pooled=Fn.binary_auc(np.r_[pos, neg], labels))

    @staticmethod
    def _normalise(prior: np.ndarray) -> np.ndarray:
        lo, hi = float(prior.min()), float(prior.max())
        prior = (prior - lo) / (hi - lo) if hi > lo else np.zeros_like(prior)
        return prior.astype(np.float16)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute the map metrics from the collected results.

        Args:
            results (list[dict]): Entries made by :meth:`process`.

        Returns:
            dict[str, float]: See the class docstring; ``{}`` when no sample
            has a mask.
        """
        logger = MMLogger.get_current_instance()
        by_path = {r['img_path']: r for r in results}
        if not any(r['has_mask'] for r in by_path.values()):
            logger.warning(
                f'MapQualityMetric: none of the {len(by_path)} samples has '
                f"'{self.mask_key}'; map quality is not measured.")
            return {}
        fakes = [
            r for r in by_path.values()
            if r['label'] == 1 and r['mask'] is not None and (
                r['mask'] > self.mask_thr).any()
        ]
        if not fakes:
            logger.warning('MapQualityMetric: no fake sample with a '
                           'non-empty mask; map quality is not measured.')
            return {}
        shape = fakes[0]['mask'].shape

        def at_shape(a: np.ndarray) -> np.ndarray:
            if a.shape == tuple(shape):
                return a
            return Fn.resize_map(a, shape).astype(np.float16)

        maps = [at_shape(r['map']) for r in fakes]
        masks = [at_shape(r['mask']) for r in fakes]

        # fakes with an evaluated real twin
        pair_idx, twins, missing = [], [], 0
        for i, r in enumerate(fakes):
            if r['pair_path'] is None:
                continue
            twin = by_path.get(r['pair_path'])
            if twin is None:
                missing += 1
                continue
            pair_idx.append(i)
            twins.append(at_shape(twin['map']))
        if not pair_idx:
            logger.warning('MapQualityMetric: no fake has its real twin '
                           '(pair_path) among the results; paired AUC is '
                           'nan.')
        elif missing:
            logger.warning(f'MapQualityMetric: {missing} fakes skipped for '
                           f'paired AUC: their real twin was not evaluated.')
        pair_masks = [masks[i] for i in pair_idx]

        metrics: Dict[str, float] = {}
        metrics.update(
            self._paired([maps[i] for i in pair_idx], twins, pair_masks))
        # floats: mmengine's LoggerHook writes ints as null in its JSON
        metrics['num_pairs'] = float(len(pair_idx))
        metrics['num_missing_twins'] = float(missing)
        metrics.update(self._map_scores(maps, masks))
        metrics['num_fakes'] = float(len(fakes))

        if self.priors:
            priors = dict(
                prior_mean_mask=np.mean(np.stack(masks).astype(np.float32),
                                        axis=0),
                prior_gaussian=Fn.gaussian_prior(shape[0], shape[1],
                                                 self.gaussian_sigma))
            for name, prior in priors.items():
                prior = self._normalise(prior)
                scores = self._paired([prior] * len(pair_idx),
                                      [prior] * len(pair_idx), pair_masks)
                scores.update(self._map_scores([prior] * len(fakes), masks))
                metrics.update({f'{name}/{k}': v for k, v in scores.items()})
        return {
            k: (v if isinstance(v, int) else float(v))
            for k, v in metrics.items()
        }
