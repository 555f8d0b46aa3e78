# Copyright (c) mmfocus contributors.
"""The protocol's two tables, collected from the cached stage results and
written as Markdown and JSON: ``results`` (the paper's layout: in-dataset
Acc/AUC, cross-dataset AUC per source) and ``map_quality``."""
import copy
import glob
import os.path as osp
from typing import Dict, List

from mmfocus.utils.io import atomic_write, atomic_write_json
from ..tables import finite_or_none, map_quality_markdown, results_markdown
from .spec import _json


class ProtocolTables:
    """The table half of :class:`~.runner.MapProtocol` (a mixin: it uses the
    protocol's ``spec``, ``selected``, ``quick``, ``spec_path``,
    ``work_dir``, ``path()``, ``label()``, ``skip_reason()``,
    ``test_sets()``, ``_source()``, ``_train_opts()``,
    ``_quality_entries()`` and ``prior_quality()``)."""

    def _finished(self) -> List[str]:
        """Sources to list: selected ones and those with earlier results."""
        names = []
        for s in self.spec.sources:
            n = s['name']
            if n in self.selected or glob.glob(
                    self.path('test', n, '*.json')) or osp.isfile(
                        self.path('map_quality', f'{n}.json')):
                names.append(n)
        return names

    def collect_results(self) -> dict:
        """The results table as a dict (from the cached test results)."""
        sets = self.test_sets()
        cross = [t['name'] for t in sets if t['kind'] == 'cross']
        rows = []
        for name in self._finished():
            src = self._source(name)
            row = dict(name=name, label=self.label(src),
                       maps=copy.deepcopy(src.get('maps')))
            if src.get('detector'):
                row.update(detector=src['detector'],
                           map_source=src.get('source_name'))
            reason = self.skip_reason(src)
            if reason:
                row['status'] = reason
                rows.append(row)
                continue
            row['in_dataset'], row['cross'] = None, {}
            for t in self.test_sets(src):
                if t.get('status'):
                    cell = dict(status=t['status'])
                else:
                    r = _json(self.path('test', name, f'{t["name"]}.json'))
                    cell = (dict(status='n/a (not run)') if r is None else
                            dict(acc=r['metrics'].get('forgery/acc'),
                                 auc=r['metrics'].get('forgery/auc'),
                                 metrics=r['metrics'],
                                 checkpoint=r['checkpoint']))
                if t['kind'] == 'in':
                    row['in_dataset'] = cell
                else:
                    row['cross'][t['name']] = cell
            rows.append(row)
        opts = self._train_opts()
        return dict(
            title=self.spec.get('title', 'Map sources as training targets'),
            description=self.spec.get('description'),
            spec=self.spec_path, work_dir=self.work_dir,
            in_dataset=sets[0]['name'], cross_datasets=cross,
            training=(f'{opts.get("max_iters", "config")} iterations'
                      f'{" (--quick)" if self.quick else ""}, final '
                      'checkpoint of each source'),
            rows=rows)

    def collect_map_quality(self) -> dict:
        """The map-quality table as a dict (from the cached results)."""
        mq = dict(self.spec.get('map_quality') or {})
        rows, no_map = [], []
        _, _, ann_file = self._quality_entries()
        for name in self._finished():
            src = self._source(name)
            if not self.maps_row(src):
                continue  # the same maps as the first detector's row
            label = src.get('map_label') or self.label(src)
            if src.get('maps') is None:
                no_map.append(label)
                continue
            row = dict(name=name, label=label,
                       maps=copy.deepcopy(src.get('maps')))
            reason = self.skip_reason(src)
            r = _json(self.path('map_quality', f'{name}.json'))
            if reason:
                row['status'] = reason
            elif r is None:
                row['status'] = 'n/a (not run)'
            elif not r['metrics']:
                row['status'] = 'n/a (no true masks)'
            else:
                row['metrics'] = r['metrics']
                faith = _json(self.path('map_quality',
                                        f'{name}_faithfulness.json'))
                if faith is not None:
                    row['faithfulness'] = faith
            rows.append(row)
        return dict(
            title=self.spec.get('map_quality_title',
                                'Map quality against the true masks'),
            description=mq.get('description'),
            spec=self.spec_path, work_dir=self.work_dir, ann_file=ann_file,
            map_size=list(mq.get('map_size', (56, 56))),
            mask_thr=float(mq.get('mask_thr', 0.5)),
            iou_thr=float(mq.get('iou_thr', 0.5)), rows=rows,
            priors=self.prior_quality(), no_map=no_map)

    def write_tables(self) -> Dict[str, str]:
        """Write results.{md,json} and map_quality.{md,json} atomically."""
        results = self.collect_results()
        quality = self.collect_map_quality()
        paths = dict(results_md=self.path('results.md'),
                     results_json=self.path('results.json'),
                     map_quality_md=self.path('map_quality.md'),
                     map_quality_json=self.path('map_quality.json'))
        atomic_write(paths['results_md'],
                     results_markdown(results).encode())
        atomic_write_json(paths['results_json'], finite_or_none(results))
        atomic_write(paths['map_quality_md'],
                     map_quality_markdown(quality).encode())
        atomic_write_json(paths['map_quality_json'],
                          finite_or_none(quality))
        return paths
