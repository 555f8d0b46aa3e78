# Copyright (c) mmfocus contributors.
"""Face-forgery annotation files in mmengine's BaseDataset format."""
import json
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset

from mmfocus.registry import DATASETS
from .paired import paired_self_blend
from .shards import shard_refs, verify_shards

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

    A *packed* annotation (``tools/dataset_converters/pack_shards.py``,
    :mod:`mmfocus.datasets.shards`) adds ``img_shard`` /
    ``img_shard_index`` and ``mask_shard`` / ``mask_shard_index`` (also
    relative to the data root): ``LoadFace`` and ``LoadManipulationMask``
    then copy the decoded face and mask out of memory-mapped ``.npy``
    shards instead of decoding PNGs, with the same arrays.

    Args:
        ann_file (str): Annotation JSON.
        data_root (str): Root of the relative paths. Defaults to ''.
        data_prefix (dict): ``dict(img='')`` prefix under data_root.
        methods (Sequence[str], optional): Keep only these ``method`` values
            (``'real'`` is always kept). Defaults to None (all).
        paired_self_blend (bool): Item ``i`` is the list ``[real_i,
            fake_i]``: the real face and its own ``SelfBlend`` fake under
            one shared augmentation (:func:`~mmfocus.datasets.paired.
            paired_self_blend`, as Self-Blended Images trains). Needs real
            faces only (``methods=()``), a ``SelfBlend`` in the pipeline and
            ``collate_fn=dict(type='mmfocus.flatten_collate')``. In
            ``test_mode`` the dataset instead has ``2 N`` single items
            (``2 i``: real face ``i``, ``2 i + 1``: its own fake, seeded by
            ``i``, so every pass gives the same pairs) because mmengine's
            evaluator keeps only ``len(dataset)`` results. Defaults to False.
        check_files (bool): When the annotation is loaded (``full_init``,
            i.e. before training or testing starts), check that every
            ``img_path`` and every non-null ``mask_path`` of the kept
            entries exists (one ``stat`` per file) and raise one error with
            the number of missing files and the first few; otherwise a
            missing image fails only when its sample is loaded, possibly
            hours into a run. For packed entries the shard files are
            checked instead of the PNGs, and against the annotation's
            manifest (size and header of each shard, no checksum).
            Defaults to True.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.
    """
    METAINFO = dict(classes=CLASSES)
    #: Whether entries are clips (``clip_paths``); a frame dataset refuses
    #: them.
    CLIPS = False

    def __init__(self, ann_file: str, data_root: str = '',
                 data_prefix: Optional[dict] = None, methods=None,
                 paired_self_blend: bool = False, check_files: bool = True,
                 **kwargs):
        self.paired_self_blend = bool(paired_self_blend)
        self.check_files = bool(check_files)
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
        # metrics resolve files relative to the data (e.g. the training
        # annotation of MapQualityMetric's region prior) through this
        self._metainfo['data_root'] = self.data_root
        if self.paired_self_blend and not any(
                type(t).__name__ == 'SelfBlend'
                for t in getattr(self.pipeline, 'transforms', [])):
            raise ValueError(f'{ann_file}: paired_self_blend=True needs a '
                             'SelfBlend transform in the pipeline')

    def prepare_data(self, idx: int):
        """The pipeline's output, or the ``[real, fake]`` pair with
        ``paired_self_blend``."""
        if not self.paired_self_blend:
            return super().prepare_data(idx)
        if self.test_mode:
            pair = paired_self_blend(self.pipeline,
                                     self.get_data_info(idx // 2),
                                     seed=idx // 2)
            return pair[idx % 2]
        return paired_self_blend(self.pipeline, self.get_data_info(idx))

    def __len__(self) -> int:
        n = super().__len__()
        return 2 * n if self.paired_self_blend and self.test_mode else n

    def load_data_list(self) -> List[dict]:
        """mmengine's loading, with errors that name the annotation file
        (a malformed JSON otherwise gives ``JSONDecodeError: ... line 78
        column 673`` and no path)."""
        try:
            return super().load_data_list()
        except json.JSONDecodeError as e:
            raise ValueError(f'{self.ann_file}: not valid JSON ({e})'
                             ) from None
        except UnicodeDecodeError as e:
            raise ValueError(f'{self.ann_file}: not a text (JSON) file '
                             f'({e})') from None
        except (TypeError, ValueError) as e:
            if self.ann_file in str(e):
                raise
            raise type(e)(f'{self.ann_file}: {e}') from None

    def _join(self, path: Optional[str]) -> Optional[str]:
        if not path:
            return None
        return osp.join(self.data_prefix.get('img', ''), path)

    def parse_data_info(self, raw: dict) -> dict:
        for key in ('img_path', 'gt_label'):
            if key not in raw:
                raise KeyError(f'{self.ann_file}: a data_list entry has no '
                               f'"{key}": {raw}')
        if 'clip_paths' in raw and not self.CLIPS:
            raise ValueError(
                f'{self.ann_file}: a clip annotation (entries with '
                '"clip_paths") given to a frame dataset: a frame model would '
                'see the first frame and no map; use FaceClipDataset (a video '
                'model) or a frame annotation')
        label = int(raw['gt_label'])
        if label not in (0, 1):
            raise ValueError(f'{self.ann_file}: gt_label must be 0 (real) or '
                             f'1 (fake), got {label} for {raw["img_path"]}')
        info = dict(raw)
        info['gt_label'] = label
        info['img_path'] = self._join(raw['img_path'])
        info['mask_path'] = self._join(raw.get('mask_path'))
        info['pair_path'] = self._join(raw.get('pair_path'))
        for key in ('img_shard', 'mask_shard'):
            if key in raw:
                info[key] = self._join(raw[key])
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
        if self.check_files:
            self._check_files(data)
        return data

    def _check_files(self, data: List[dict], show: int = 5) -> None:
        """One ``stat`` per annotated file (per shard for packed entries);
        one error for all missing."""
        files, shards = [], {}
        for d in data:
            refs = shard_refs([d])
            shards.update((ref[1], None) for ref in refs)
            kinds = {ref[0] for ref in refs}
            for key, kind in (('img_path', 'faces'), ('mask_path', 'masks')):
                if d.get(key) is not None and kind not in kinds:
                    files.append(d[key])
        files += list(shards)
        missing = [p for p in files if not osp.isfile(p)]
        if missing:
            shown = ', '.join(missing[:show]) + (
                ', ...' if len(missing) > show else '')
            raise FileNotFoundError(
                f'{self.ann_file}: {len(missing)} of {len(files)} annotated '
                'files are missing (img_path / mask_path / shards), e.g. '
                f'{shown} (wrong data_root? check_files=False skips this '
                'check)')
        manifest = (self.metainfo.get('shards') or {}).get('manifest')
        if shards and manifest:
            verify_shards(osp.join(osp.dirname(self.ann_file), manifest),
                          files=shards)

    def get_gt_labels(self):
        import numpy as np
        return np.array([self.get_data_info(i)['gt_label']
                         for i in range(len(self))])
