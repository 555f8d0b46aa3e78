# Copyright (c) mmfocus contributors.
"""DFDC preview (DFDCp) in its published layout -> face crops + annotations.

Layout (``dfdc_preview_set`` as downloaded)::

    <root>/dataset.json
    <root>/original_videos/<id>/<id>_<ctx>/<video>.mp4     real
    <root>/method_A/<target_id>/<target_id>_<ctx>/<video>.mp4   fake
    <root>/method_B/...                                          fake

``dataset.json`` maps each video's path relative to the root to its
metadata: ``label`` (``"real"`` / ``"fake"``), ``set`` (``"train"`` /
``"test"``), ``target_id`` and, for fakes, ``swapped_id``; those ids (and
``augmented`` when present) are copied into the annotation entries. The
file names no fake's source video, so DFDCp has no pairing.

The field tests on the ``set == "test"`` videos (FoCus: cross-dataset test,
method section 3): they become ``test.json``; ``include_train`` also
converts the ``train`` ones into ``train.json``. Video ids are the relative
paths without ``.mp4``; ``method`` is ``real`` or the method folder
(``method_A`` / ``method_B``).
"""
import os.path as osp
from typing import List, Tuple

from mmfocus.utils.io import load_json
from .engine import VideoTask, run_conversion

DATASET_FILE = 'dataset.json'
_LABELS = {'real': 0, 'fake': 1}
_SETS = {'train': 'train', 'test': 'test'}
_EXTRA_KEYS = ('target_id', 'swapped_id', 'augmented')


def load_dfdcp_index(path: str) -> dict:
    """Read and check ``dataset.json``.

    Args:
        path (str): The file.

    Returns:
        dict: relative video path -> ``dict(label=0|1, split=..., extra)``.
    """
    raw = load_json(path, 'DFDC preview index')
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f'{path}: expected an object mapping video paths '
                         f'to their metadata')
    out = {}
    for rel, meta in raw.items():
        norm = str(rel).replace('\\', '/')
        parts = norm.split('/')
        if not norm.endswith('.mp4') or norm.startswith('/') or '..' in \
                parts or len(parts) < 2:
            raise ValueError(f'{path}: expected a relative video path like '
                             f'"method_A/<id>/<id>_<ctx>/<video>.mp4", got '
                             f'{rel!r}')
        if not isinstance(meta, dict):
            raise ValueError(f'{path}: {rel}: expected an object')
        label = _LABELS.get(str(meta.get('label', '')).lower())
        if label is None:
            raise ValueError(f'{path}: {rel}: label must be "real" or '
                             f'"fake", got {meta.get("label")!r}')
        split = _SETS.get(str(meta.get('set', '')).lower())
        if split is None:
            raise ValueError(f'{path}: {rel}: set must be "train" or '
                             f'"test", got {meta.get("set")!r}')
        if (label == 0) != (parts[0] == 'original_videos'):
            raise ValueError(f'{path}: {rel}: label {meta["label"]!r} does '
                             f'not match its folder {parts[0]}')
        out[norm] = dict(label=label, split=split,
                         extra={k: meta[k] for k in _EXTRA_KEYS
                                if k in meta})
    return out


def collect_dfdcp(root: str, include_train: bool = False
                  ) -> Tuple[List[VideoTask], List[str], int]:
    """List the DFDC preview videos to convert.

    Args:
        root (str): The ``dfdc_preview_set`` folder.
        include_train (bool): Convert the ``train`` videos too.
            Defaults to False.

    Returns:
        tuple: ``tasks``, ``missing`` (indexed videos absent from the
        download) and ``ignored`` (train videos left out).
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'DFDC preview root not found: {root}')
    index = load_dfdcp_index(osp.join(root, DATASET_FILE))
    tasks, missing, ignored = [], [], 0
    for rel, meta in sorted(index.items()):
        if meta['split'] == 'train' and not include_train:
            ignored += 1
            continue
        key = rel[:-len('.mp4')]
        path = osp.join(root, *rel.split('/'))
        if not osp.isfile(path):
            missing.append(key)
            continue
        folder, name = key.rsplit('/', 1)
        tasks.append(VideoTask(
            folder=folder, name=name, path=path, label=meta['label'],
            method='real' if meta['label'] == 0 else rel.split('/')[0],
            split=meta['split'], extra=meta['extra']))
    return tasks, missing, ignored


def convert_dfdcp(root: str,
                  out: str,
                  include_train: bool = False,
                  **options) -> dict:
    """Convert DFDC preview to face crops and ``test.json`` (plus
    ``train.json`` with ``include_train``) under ``out``.

    Args:
        root (str): The ``dfdc_preview_set`` folder.
        out (str): Output folder (``data/dfdcp`` for
            ``configs/_base_/datasets/dfdcp.py``).
        include_train (bool): Convert the train videos too.
            Defaults to False.
        **options: Sampling, cropping and run options (``frames``,
            ``workers``, ``shard``, ``real_oversample``, ``margin``,
            ``size``, ``detector``, ``merge``, ``min_faces``, ``progress``,
            ``face_detector``) of :func:`~.engine.run_conversion`.

    Returns:
        dict: The run summary plus ``out_dir``, ``missing``, ``ignored``.
    """
    tasks, missing, ignored = collect_dfdcp(root, include_train)
    if not tasks:
        raise FileNotFoundError(f'no DFDC preview video to convert under '
                                f'{root}')
    metainfo = dict(dataset='DFDC-preview', methods=['method_A', 'method_B'],
                    pairing='none (dataset.json names no source video)')
    summary = run_conversion(tasks, out, metainfo, missing, **options)
    summary['ignored'] = ignored
    return summary
