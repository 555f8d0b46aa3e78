# Copyright (c) mmfocus contributors.
"""Dump per-sample predictions to a JSON file (``tools/test.py --out``)."""
from typing import Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmfocus.registry import METRICS
from mmfocus.utils.io import atomic_write_json


def _item(x):
    return x.item() if hasattr(x, 'item') and getattr(x, 'numel',
                                                      lambda: 1)() == 1 \
        else x


@METRICS.register_module()
class DumpPredictions(BaseMetric):
    """Write ``[{img_path, gt_label, pred_label, fake_score, video_id,
    method, mask_path}]`` to ``out_file`` (atomically) and return no metric
    (``mask_path``: a fake's true manipulation mask, where known, so that
    reports can show it beside the map). A model that scores each branch
    (FoCus's ``pred_score_<branch>``) adds ``fake_score_<branch>``.

    Args:
        out_file (str): Output JSON path.
        collect_device (str): Defaults to ``'cpu'``.
    """

    def __init__(self, out_file: str, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not out_file.endswith('.json'):
            raise ValueError(f'--out must be a .json file, got {out_file}')
        self.out_file = out_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            score = ds['pred_score']
            branches = {f'fake_score_{k[len("pred_score_"):]}':
                        float(v[1]) for k, v in ds.items()
                        if k.startswith('pred_score_')}
            self.results.append(dict(
                img_path=ds.get('img_path'),
                gt_label=int(_item(ds['gt_label'])) if 'gt_label' in ds
                else None,
                pred_label=int(_item(ds['pred_label'])),
                fake_score=float(score[1]),
                video_id=ds.get('video_id'),
                method=ds.get('method'),
                mask_path=ds.get('mask_path'), **branches))

    def compute_metrics(self, results: list) -> dict:
        atomic_write_json(self.out_file, results)
        return {}
