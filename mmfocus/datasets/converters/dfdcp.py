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
import json
import os.path as osp
from typing import List, Optional, Tuple

from .engine import ConvertSettings, VideoTask, convert_videos, parse_shard

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
    if not osp.isfile(path):
        raise FileNotFoundError(f'DFDC preview index not found: {path}')
    try:
        with open(path) as f:
            raw = json.load(f)
    except ValueError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from None
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
                  frames: int = 10,
                  workers: int = 1,
                  shard: Optional[str] = None,
                  include_train: bool = False,
                  real_oversample: int = 1,
                  margin: float = 1.3,
                  size: int = 224,
                  detector: Optional[dict] = None,
                  merge: str = 'auto',
                  min_faces: Optional[int] = None,
                  progress: bool = True,
                  face_detector=None) -> dict:
    """Convert DFDC preview to face crops and ``test.json`` (plus
    ``train.json`` with ``include_train``) under ``out``.

    Args:
        root (str): The ``dfdc_preview_set`` folder.
        out (str): Output folder (``data/dfdcp`` for
            ``configs/_base_/datasets/dfdcp.py``).
        frames (int): Frames per video. Defaults to 10.
        workers (int): Processes. Defaults to 1.
        shard (str, optional): ``'i/n'``. Defaults to None.
        include_train (bool): Convert the train videos too.
            Defaults to False.
        real_oversample (int): Repeat real train entries. Defaults to 1.
        margin (float): Crop margin. Defaults to 1.3.
        size (int): Crop side. Defaults to 224.
        detector (dict, optional): Detector config. Defaults to
            :data:`~.engine.DEFAULT_DETECTOR`.
        merge (str): ``'auto'``, ``'only'`` or ``'never'``.
            Defaults to ``'auto'``.
        min_faces (int, optional): Report videos with fewer faces.
            Defaults to ``max(1, frames // 2)``.
        progress (bool): Progress bar. Defaults to True.
        face_detector (BaseFaceDetector, optional): A ready detector
            (``workers=1``). Defaults to None.

    Returns:
        dict: The run summary plus ``out_dir``, ``missing``, ``ignored``.
    """
    tasks, missing, ignored = collect_dfdcp(root, include_train)
    if not tasks:
        raise FileNotFoundError(f'no DFDC preview video to convert under '
                                f'{root}')
    kwargs = dict(frames=frames, margin=margin, size=size)
    if detector is not None:
        kwargs['detector'] = detector
    settings = ConvertSettings(**kwargs)
    metainfo = dict(
        dataset='DFDC-preview', methods=['method_A', 'method_B'],
        frames_per_video=settings.frames, margin=settings.margin,
        size=settings.size, detector=settings.detector,
        pairing='none (dataset.json names no source video)')
    summary = convert_videos(
        tasks, out, settings, metainfo, workers=workers,
        shard=parse_shard(shard), merge=merge,
        real_oversample=real_oversample, min_faces=min_faces,
        missing=missing, progress=progress, detector=face_detector)
    summary.update(out_dir=osp.abspath(out), missing=missing,
                   ignored=ignored)
    return summary
