# Copyright (c) mmfocus contributors.
"""The face-forgery annotation file: one reader and one writer.

An mmengine ``BaseDataset`` JSON: ``{"metainfo": {...}, "data_list":
[...]}`` whose entries have at least ``img_path`` and a 0/1 ``gt_label``
(the converters and the demo builder add ``mask_path``, ``pair_path``,
``method``, ``video_id``, ``frame_idx``, ``landmarks``, ...). The writer puts
one entry per line, so that annotations diff well.
"""
import json
from typing import List

from mmfocus.utils.io import load_json


def load_annotation(path: str) -> dict:
    """Read an annotation file, with clear errors naming the file.

    Raises:
        FileNotFoundError / ValueError: missing, unreadable or malformed
            file.
        KeyError: an entry without ``img_path`` or ``gt_label``.
    """
    ann = load_json(path, 'annotation file')
    if not isinstance(ann, dict) or not isinstance(ann.get('data_list'),
                                                   list):
        raise ValueError(f'{path}: expected {{"metainfo": ..., "data_list": '
                         '[...]}} (mmengine BaseDataset format)')
    for i, entry in enumerate(ann['data_list']):
        for key in ('img_path', 'gt_label'):
            if not isinstance(entry, dict) or key not in entry:
                raise KeyError(f'{path}: data_list[{i}] has no "{key}"')
        if int(entry['gt_label']) not in (0, 1):
            raise ValueError(f'{path}: data_list[{i}] gt_label must be 0 or '
                             f'1, got {entry["gt_label"]}')
    return ann


def dump_annotation(metainfo: dict, data_list: List[dict]) -> str:
    """The annotation JSON text, one data entry per line (diff-friendly);
    :func:`load_annotation` / ``json.loads`` read it back."""
    entries = ',\n'.join('  ' + json.dumps(e) for e in data_list)
    body = f'\n{entries}\n' if data_list else ''
    return f'{{"metainfo": {json.dumps(metainfo)},\n"data_list": [{body}]}}\n'
