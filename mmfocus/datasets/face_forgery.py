# Copyright (c) mmfocus contributors.
"""Face-forgery annotation files in mmengine's BaseDataset format."""
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset

from mmfocus.registry import DATASETS

CLASSES = ('real', 'fake')


@DATASETS.register_module()
class FaceForgeryDataset(BaseDataset):
    """Aligned face crops with real/fake labels.

    The annotation file is mmengine's format::

        {"metainfo": {"classes": ["real", "fake"], "dataset": "...", ...},
         "data_list": [{"img_path": "real/x.png", "gt_label": 0,
                        "video_id": "000", "frame_idx": 3, "method": "real",
                        "mask_path": null, "pair_path": null,
                        "landmarks": [[x, y], ...]}, ...]}

    ``img_path``, ``mask_path`` (a soft or binary manipulation mask) and
    ``pair_path`` (a fake's real twin, for paired metrics and SSIM /
    difference maps) are relative to ``data_root`` / ``data_prefix['img']``.

    Args:
        ann_file (str): Annotation JSON.
        data_root (str): Root of the relative paths. Defaults to ''.
        data_prefix (dict): ``dict(img='')`` prefix under data_root.
        methods (Sequence[str], optional): Keep only these ``method`` values
            (``'real'`` is always kept). Defaults to None (all).
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.
    """
    METAINFO = dict(classes=CLASSES)

    def __init__(self, ann_file: str, data_root: str = '',
                 data_prefix: Optional[dict] = None, methods=None, **kwargs):
        self.methods = None if methods is None else set(methods) | {'real'}
        data_prefix = dict(img='') if data_prefix is None else data_prefix
        ann_path = ann_file if osp.isabs(ann_file) or not data_root \
            else osp.join(data_root, ann_file)
        if not kwargs.get('lazy_init', False) and not osp.isfile(ann_path):
            raise FileNotFoundError(
                f'annotation file not found: {ann_path} (build the demo data '
                'with tools/misc/build_demo_data.py or convert a dataset with '
                'tools/dataset_converters/)')
        super().__init__(ann_file=ann_file, data_root=data_root,
                         data_prefix=data_prefix, **kwargs)

    def _join(self, path: Optional[str]) -> Optional[str]:
        if not path:
            return None
        return osp.join(self.data_prefix.get('img', ''), path)

    def parse_data_info(self, raw: dict) -> dict:
        for key in ('img_path', 'gt_label'):
            if key not in raw:
                raise KeyError(f'{self.ann_file}: a data_list entry has no '
                               f'"{key}": {raw}')
        label = int(raw['gt_label'])
        if label not in (0, 1):
            raise ValueError(f'{self.ann_file}: gt_label must be 0 (real) or '
                             f'1 (fake), got {label} for {raw["img_path"]}')
        info = dict(raw)
        info['gt_label'] = label
        info['img_path'] = self._join(raw['img_path'])
        info['mask_path'] = self._join(raw.get('mask_path'))
        info['pair_path'] = self._join(raw.get('pair_path'))
        info.setdefault('video_id', None)
        info.setdefault('frame_idx', 0)
        info.setdefault('method', 'real' if label == 0 else 'fake')
        return info

    def filter_data(self) -> List[dict]:
        data = self.data_list
        if self.methods is not None:
            data = [d for d in data if d['method'] in self.methods]
        if not data:
            raise ValueError(f'{self.ann_file}: no samples left (methods='
                             f'{sorted(self.methods or [])})')
        return data

    def get_gt_labels(self):
        import numpy as np
        return np.array([self.get_data_info(i)['gt_label']
                         for i in range(len(self))])
