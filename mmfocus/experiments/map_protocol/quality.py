# Copyright (c) mmfocus contributors.
"""The map-quality stages of the protocol: each source's maps against the
true masks of the test split (:class:`~mmfocus.evaluation.MapQualityMetric`),
their deletion / insertion faithfulness, and the position-prior baselines.
Every result is cached as JSON under ``<work_dir>/map_quality/``."""
import os.path as osp
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

from mmfocus.apis.inference import (image_size_from_header, inference_model,
                                    init_model)
from mmfocus.datasets.transforms import LoadManipulationMask
from mmfocus.evaluation import functional as Fn
from mmfocus.evaluation.metrics import MapQualityMetric
from mmfocus.utils.io import atomic_write_json, imread_checked
from ..tables import finite_or_none
from .spec import _json


class MapQualityStages:
    """The map-quality half of :class:`~.runner.MapProtocol` (a mixin: it
    uses the protocol's ``spec``, ``rank``, ``device``, ``path()``,
    ``log()``, ``_rank0()``, ``_resolve()`` and ``_generate()``)."""

    def _quality_entries(self) -> Tuple[List[dict], str, str]:
        mq = dict(self.spec.get('map_quality') or {})
        data_root = mq.get('data_root') or self.spec.data_root
        ann_file = mq.get('ann_file') or self.spec.in_dataset.get(
            'ann_file', 'test.json')
        ann = _json(self._resolve(ann_file, data_root))
        return ann['data_list'], data_root, ann_file

    def _metric(self, priors: bool):
        mq = dict(self.spec.get('map_quality') or {})
        region_ann = mq.get('region_prior_ann')
        return MapQualityMetric(
            map_size=tuple(mq.get('map_size', (56, 56))),
            mask_thr=float(mq.get('mask_thr', 0.5)),
            iou_thrs=(float(mq.get('iou_thr', 0.5)), ),
            priors=priors,
            region_prior_ann=region_ann if priors else None,
            data_root=mq.get('data_root') or self.spec.data_root)

    def _samples(self, entries: List[dict], data_root: str,
                 map_of: Callable[[dict], Optional[str]]) -> List[dict]:
        """Sample dicts for MapQualityMetric: each frame's map (read from
        ``map_of(entry)``, zeros when None) and true mask, read by
        :class:`~mmfocus.datasets.transforms.LoadManipulationMask`."""
        load = LoadManipulationMask()

        def join(p):
            return p if not p or osp.isabs(p) else osp.join(data_root, p)

        samples = []
        for e in entries:
            img = join(e['img_path'])
            size = image_size_from_header(img)
            if size is None:
                raise FileNotFoundError(f'cannot read the size of {img}')
            shape = (size[1], size[0])
            mask = load(dict(img_shape=shape, gt_label=e['gt_label'],
                             mask_path=join(e.get('mask_path'))))['gt_mask']
            pred = load(dict(img_shape=shape, gt_label=0,
                             mask_path=map_of(e)))['gt_mask']
            samples.append(
                dict(img_path=e['img_path'], pair_path=e.get('pair_path'),
                     method=e.get('method'),
                     gt_label=int(e['gt_label']), pred_map=pred,
                     gt_mask=mask if int(e['gt_label']) == 1 else None))
        return samples

    def _evaluate(self, samples: List[dict], priors: bool) -> dict:
        metric = self._metric(priors)
        metric.process(None, samples)
        return metric.compute_metrics(metric.results)

    def map_quality(self, src: dict) -> Optional[dict]:
        """Map quality of one source's maps on the test split (cached);
        None for a source without maps."""
        maps = src.get('maps')
        if maps is None:
            return None
        out = self.path('map_quality', f'{src["name"]}.json')
        done = self._rank0(_json(out))
        if done is not None:
            return done
        entries, data_root, ann_file = self._quality_entries()
        map_of = self._map_lookup(src, entries, ann_file, data_root)
        if self.rank != 0:
            return None
        self.log(f'{src["name"]}: map quality on {ann_file}')
        metrics = self._evaluate(self._samples(entries, data_root, map_of),
                                 priors=False)
        result = dict(source=src['name'], ann_file=ann_file,
                      metrics=metrics)
        atomic_write_json(out, finite_or_none(result))
        return result

    def _map_lookup(self, src: dict, entries: List[dict], ann_file: str,
                    data_root: str) -> Callable[[dict], Optional[str]]:
        """``entry -> path of the source's map of that frame`` (None: no
        map) on the test annotation (``entries``, read from ``ann_file``);
        the maps are generated (cached)."""
        if src['maps'] == 'annotation':
            written = {e['img_path']: e.get('mask_path') for e in entries}
        else:
            gen = self._generate(src, ann_file, data_root, 'test',
                                 all_frames=True)
            written = {e['img_path']: e.get('mask_path')
                       for e in _json(gen)['data_list']}

        def map_of(e):
            p = written.get(e['img_path'])
            return p if not p or osp.isabs(p) else osp.join(data_root, p)

        return map_of

    def faithfulness(self, src: dict) -> Optional[dict]:
        """Deletion / insertion faithfulness of one source's maps (cached
        in ``map_quality/<name>_faithfulness.json``).

        ``spec.faithfulness``: ``num_fakes`` test fakes (spread evenly over
        the annotation), ``steps``, ``blur_sigma``, ``seed`` and ``scorer``
        (``dict(config, checkpoint)``: the detector whose fake score the
        curves follow for sources without a model of their own, e.g. SSIM;
        a model-based source is scored by its own model). Each curve: the
        fake score as the top-k % of map pixels are blurred away
        (deletion, lower area = more faithful) or restored into a blurred
        face (insertion, higher = more faithful); beside the same curves
        for seeded random maps (:func:`mmfocus.evaluation.functional.
        deletion_insertion_random`). None when not configured, for a
        source without maps, or on ranks other than 0.
        """
        fc = self.spec.get('faithfulness')
        if not fc or src.get('maps') is None:
            return None
        out = self.path('map_quality', f'{src["name"]}_faithfulness.json')
        done = self._rank0(_json(out))
        if done is not None or self.rank != 0:
            return done
        maps = src['maps']
        model_cfg = maps if isinstance(maps, dict) and maps.get(
            'checkpoint') else fc.get('scorer')
        if not model_cfg or not osp.isfile(model_cfg.get('checkpoint', '')):
            return None
        entries, data_root, ann_file = self._quality_entries()
        map_of = self._map_lookup(src, entries, ann_file, data_root)
        fakes = [e for e in entries if int(e['gt_label']) == 1]
        n = min(int(fc.get('num_fakes', 24)), len(fakes))
        pick = [fakes[int(i)] for i in np.linspace(0, len(fakes) - 1, n)]
        model = init_model(model_cfg['config'], model_cfg['checkpoint'],
                           device=self.device)

        def score_fn(batch):
            return [float(p.pred_score[1]) for p in
                    inference_model(model, [np.ascontiguousarray(b)
                                            for b in batch])]

        steps, sigma = int(fc.get('steps', 10)), float(
            fc.get('blur_sigma', 5.0))
        rows = dict(deletion=[], insertion=[], random_deletion=[],
                    random_insertion=[])
        for k, e in enumerate(pick):
            img = imread_checked(osp.join(data_root, e['img_path']))
            mpath = map_of(e)
            sal = np.zeros(img.shape[:2], np.float32) if not mpath else \
                imread_checked(mpath, cv2.IMREAD_UNCHANGED).astype(
                    np.float32)
            r = Fn.deletion_insertion(score_fn, img, sal, steps=steps,
                                      blur_sigma=sigma)
            b = Fn.deletion_insertion_random(
                score_fn, img, steps=steps, blur_sigma=sigma,
                seed=int(fc.get('seed', 0)) + k)
            rows['deletion'].append(r['deletion_auc'])
            rows['insertion'].append(r['insertion_auc'])
            rows['random_deletion'].append(b['deletion_auc'])
            rows['random_insertion'].append(b['insertion_auc'])
        result = dict(source=src['name'], scorer=model_cfg['checkpoint'],
                      num_fakes=n, steps=steps, blur_sigma=sigma)
        for key, vals in rows.items():
            result[f'{key}_auc'] = float(np.mean(vals))
            result[f'{key}_auc_std'] = float(np.std(vals))
        atomic_write_json(out, finite_or_none(result))
        return result

    def prior_quality(self) -> Dict[str, dict]:
        """The position-prior baselines on the test split's masks
        (cached in ``map_quality/priors.json``)."""
        cache = self.path('map_quality', 'priors.json')
        entries, data_root, ann_file = self._quality_entries()
        done = _json(cache)
        if done is not None and done.get('ann_file') == ann_file:
            return done['priors']
        m = self._evaluate(self._samples(entries, data_root, lambda e: None),
                           priors=True)
        out = {}
        for key in ('prior_mean_mask', 'prior_gaussian', 'prior_region'):
            vals = {k[len(key) + 1:]: v for k, v in m.items()
                    if k.startswith(key + '/')}
            # the priors' per-region-type scores (<group>/<prior>/<key>)
            for k, v in m.items():
                parts = k.split('/')
                if len(parts) == 3 and parts[1] == key:
                    vals[f'{parts[0]}/{parts[2]}'] = v
                    if f'{parts[0]}/num_fakes' in m:
                        vals[f'{parts[0]}/num_fakes'] = m[
                            f'{parts[0]}/num_fakes']
            if vals:
                vals['num_fakes'] = m.get('num_fakes')
                vals['num_pairs'] = m.get('num_pairs')
                out[key] = vals
        atomic_write_json(cache, finite_or_none(
            dict(ann_file=ann_file, priors=out)))
        return out
