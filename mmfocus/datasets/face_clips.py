# Copyright (c) mmfocus contributors.
"""Clips of consecutive face crops (one face track) for video models."""
from typing import List, Optional

from mmfocus.registry import DATASETS
from .face_forgery import FaceForgeryDataset


@DATASETS.register_module()
class FaceClipDataset(FaceForgeryDataset):
    """Clips of ``clip_len`` consecutive face crops with real/fake labels.

    Each annotation entry is one clip (written by the converters' clip mode,
    ``--clips K --clip-len T``, or by ``tools/misc/build_demo_clips.py``)::

        {"img_path": "<first frame>", "gt_label": 1, "video_id": "...",
         "method": "...", "clip_idx": 0, "frame_indices": [10, 11, ...],
         "clip_paths": ["...", ...], "clip_mask_paths": [...] | null,
         "clip_pair_paths": [...] | null}

    ``clip_mask_paths`` are the per-frame manipulation masks (or the map
    source's maps, for map-supervised training); ``clip_pair_paths`` the
    real twin's frames. Paths are relative to ``data_root``. A clip with
    fewer than ``clip_len`` frames, or whose masks / pairs do not have one
    path per frame, is an error naming the entry: a video model never gets
    a silently short clip.

    Args:
        clip_len (int): Frames per clip the model takes; a longer clip is
            cut to its first ``clip_len`` frames (consecutive).
        **kwargs: :class:`FaceForgeryDataset` arguments
            (``paired_self_blend`` is not supported for clips).
    """
    CLIPS = True

    def __init__(self, *args, clip_len: int = 8, **kwargs) -> None:
        if clip_len < 1:
            raise ValueError(f'clip_len must be >= 1, got {clip_len}')
        if kwargs.get('paired_self_blend'):
            raise ValueError('FaceClipDataset: paired_self_blend is not '
                             'supported for clips')
        self.clip_len = int(clip_len)
        super().__init__(*args, **kwargs)

    def _joined(self, paths: Optional[List[str]], key: str, raw: dict
                ) -> Optional[List[str]]:
        if paths is None:
            return None
        if not isinstance(paths, (list, tuple)) or \
                len(paths) < self.clip_len:
            n = len(paths) if isinstance(paths, (list, tuple)) else 'no'
            raise ValueError(
                f'{self.ann_file}: clip {raw.get("video_id")}#'
                f'{raw.get("clip_idx", 0)} has {n} {key} but clip_len is '
                f'{self.clip_len} (convert with --clip-len >= {self.clip_len}'
                ' or lower clip_len)')
        return [self._join(p) for p in paths[:self.clip_len]]

    def parse_data_info(self, raw: dict) -> dict:
        if 'clip_paths' not in raw:
            raise KeyError(f'{self.ann_file}: entry {raw.get("img_path")} '
                           'has no "clip_paths": not a clip annotation '
                           '(convert with --clips K --clip-len T)')
        info = super().parse_data_info(raw)
        info['clip_paths'] = self._joined(raw['clip_paths'], 'frames', raw)
        for key in ('clip_mask_paths', 'clip_pair_paths'):
            info[key] = self._joined(raw.get(key), key, raw)
        info['frame_indices'] = list(
            raw.get('frame_indices', range(self.clip_len)))[:self.clip_len]
        info['frame_idx'] = info['frame_indices'][0]
        return info

    def _check_files(self, data: List[dict], show: int = 5) -> None:
        flat = []
        for d in data:
            for i, p in enumerate(d['clip_paths']):
                masks = d.get('clip_mask_paths')
                flat.append(dict(img_path=p,
                                 mask_path=masks[i] if masks else None))
        super()._check_files(flat, show)
