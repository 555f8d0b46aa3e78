# Copyright (c) mmfocus contributors.
"""DFDC (the full Deepfake Detection Challenge dataset) in its published
layout -> face crops + annotations.

Layout (as downloaded and unzipped)::

    <root>/dfdc_train_part_0/metadata.json + *.mp4     training parts 0-49
    ...                                    (or <root>/train/dfdc_train_part_N)
    <root>/validation/labels.csv + *.mp4   public validation set (optional)
    <root>/test/metadata.json + *.mp4      public test set (5000 videos)
                 (or test/labels.csv)

* A training part's ``metadata.json`` maps each video file to
  ``{"label": "REAL" | "FAKE", "split": "train", "original": <real
  video file> | null}``: a fake knows the real video it was made from.
  Its ``split`` is ``"train"`` everywhere in the release and is not used.
* The test set's ``metadata.json`` maps each video file to a dict with
  ``is_fake`` (0/1) or ``label`` (``REAL``/``FAKE`` or 0/1); a
  ``labels.csv`` (header ``filename,label``, 1 = fake) is read instead when
  there is no ``metadata.json``. ``validation/labels.csv`` has the same
  form.

Splits (what mmfocus writes):

* ``test.json``: the public test set, **single-subject videos only**
  (FoCus, method section 3): a video is kept only when the detector finds
  exactly one face in every sampled frame; the others are left out of the
  annotation and listed under ``not_single_face`` in ``report.json``
  (``single_face_test=False`` keeps them).
* ``train.json`` (``include_train=True``): the training parts. A fake is
  sampled at its original's frame indices and its ``pair_path`` is the
  original's crop of the same frame (when the original is converted too).
* ``val.json``: the ``validation`` folder when present, plus the training
  parts named in ``val_parts`` (e.g. ``[45, 46, 47, 48, 49]``; a part goes
  whole to one split so that a fake and its original never straddle two
  splits).

Video ids are ``<part folder>/<video stem>`` (e.g.
``dfdc_train_part_3/aabqyygbaa``, ``test/aalscayrfi``).
"""
import csv
import glob
import os.path as osp
import re
from typing import Dict, List, Sequence, Tuple

from mmfocus.utils.io import load_json
from .engine import VideoTask, run_conversion

_PART = re.compile(r'^dfdc_train_part_(\d+)$')
_LABELS = {'REAL': 0, 'FAKE': 1, '0': 0, '1': 1}


def _label_of(value, where: str) -> int:
    if isinstance(value, bool):  # "is_fake": true
        return int(value)
    key = str(value).strip().upper()
    if key not in _LABELS:
        raise ValueError(f'{where}: label must be REAL/FAKE or 0/1, got '
                         f'{value!r}')
    return _LABELS[key]


def _load_json(path: str) -> dict:
    data = load_json(path, 'DFDC metadata')
    if not isinstance(data, dict) or not data:
        raise ValueError(f'{path}: expected an object mapping video files '
                         f'to their metadata')
    return data


def _check_name(name: str, path: str) -> str:
    if not name.endswith('.mp4') or '/' in name or '\\' in name:
        raise ValueError(f'{path}: expected a video file name like '
                         f'"abcdefghij.mp4", got {name!r}')
    return name[:-len('.mp4')]


def load_dfdc_part_metadata(path: str) -> Dict[str, dict]:
    """Read a training part's ``metadata.json``.

    Args:
        path (str): The file.

    Returns:
        dict[str, dict]: video stem -> ``dict(label=0|1, original=<stem> |
        None)``.
    """
    out = {}
    for name, meta in _load_json(path).items():
        stem = _check_name(name, path)
        if not isinstance(meta, dict) or 'label' not in meta:
            raise ValueError(f'{path}: {name} has no "label"')
        label = _label_of(meta['label'], f'{path}: {name}')
        original = meta.get('original')
        if label == 1 and original:
            original = _check_name(original, f'{path}: {name} original')
        else:
            original = None
        out[stem] = dict(label=label, original=original)
    return out


def load_dfdc_labels(folder: str) -> Tuple[Dict[str, int], str]:
    """Labels of the test (or validation) folder.

    Reads ``<folder>/metadata.json`` (``is_fake`` or ``label`` per video),
    else ``<folder>/labels.csv`` (``filename,label``; 1 = fake).

    Args:
        folder (str): ``<root>/test`` or ``<root>/validation``.

    Returns:
        tuple: video stem -> label (0 real, 1 fake), and the file read.
    """
    meta = osp.join(folder, 'metadata.json')
    table = osp.join(folder, 'labels.csv')
    out: Dict[str, int] = {}
    if osp.isfile(meta):
        for name, info in _load_json(meta).items():
            stem = _check_name(name, meta)
            if isinstance(info, dict) and 'is_fake' in info:
                value = info['is_fake']
            elif isinstance(info, dict) and 'label' in info:
                value = info['label']
            else:
                raise ValueError(f'{meta}: {name} has neither "is_fake" nor '
                                 f'"label"')
            out[stem] = _label_of(value, f'{meta}: {name}')
        return out, meta
    if not osp.isfile(table):
        raise FileNotFoundError(f'no labels in {folder}: expected '
                                f'metadata.json or labels.csv')
    with open(table, newline='') as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {'filename', 'label'} <= set(
                reader.fieldnames):
            raise ValueError(f'{table}: expected a "filename,label" header, '
                             f'got {reader.fieldnames}')
        for row in reader:
            where = f'{table}:{reader.line_num}'
            stem = _check_name(row['filename'].strip(), where)
            if stem in out:
                raise ValueError(f'{where}: {row["filename"]} listed twice')
            out[stem] = _label_of(row['label'], where)
    if not out:
        raise ValueError(f'{table}: no video listed')
    return out, table


def find_dfdc_parts(root: str) -> Dict[int, str]:
    """Training part folders: part number -> folder (``<root>/`` or
    ``<root>/train/``)."""
    parts: Dict[int, str] = {}
    for base in (root, osp.join(root, 'train')):
        for path in sorted(glob.glob(osp.join(base, 'dfdc_train_part_*'))):
            m = _PART.match(osp.basename(path))
            if m and osp.isdir(path):
                num = int(m.group(1))
                if num in parts:
                    raise ValueError(f'DFDC training part {num} found twice: '
                                     f'{parts[num]} and {path}')
                parts[num] = path
    return parts


def collect_dfdc(root: str,
                 include_train: bool = False,
                 val_parts: Sequence[int] = (),
                 single_face_test: bool = True
                 ) -> Tuple[List[VideoTask], List[str]]:
    """List the DFDC videos to convert.

    Args:
        root (str): DFDC root.
        include_train (bool): Convert the training parts (and the
            validation set). Defaults to False (the test set only).
        val_parts (Sequence[int]): Training parts that form the ``val``
            split. Defaults to ().
        single_face_test (bool): Keep only single-face test videos in
            ``test.json``. Defaults to True.

    Returns:
        tuple: ``tasks`` and ``missing`` (listed videos absent from the
        download).
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'DFDC root not found: {root}')
    tasks: List[VideoTask] = []
    missing: List[str] = []

    def video_path(folder, stem):
        path = osp.join(folder, f'{stem}.mp4')
        return path if osp.isfile(path) else None

    def add_labelled(name, split, single_face=False):
        """The videos of ``<root>/<name>`` (test / validation: labels in
        metadata.json or labels.csv)."""
        folder = osp.join(root, name)
        labels, _ = load_dfdc_labels(folder)
        for stem, label in sorted(labels.items()):
            path = video_path(folder, stem)
            if path is None:
                missing.append(f'{name}/{stem}')
                continue
            tasks.append(VideoTask(
                folder=name, name=stem, path=path, label=label,
                method='real' if label == 0 else 'DFDC', split=split,
                single_face=single_face))

    test_dir = osp.join(root, 'test')
    if not osp.isdir(test_dir):
        raise FileNotFoundError(
            f'DFDC test set not found: {test_dir} (expected <root>/test/ with '
            f'metadata.json or labels.csv and the mp4 files)')
    add_labelled('test', 'test', single_face=single_face_test)
    val_parts = sorted({int(p) for p in val_parts})
    if not include_train:
        if val_parts:
            raise ValueError('val_parts needs include_train (the training '
                             'parts are not converted otherwise)')
        return tasks, missing
    parts = find_dfdc_parts(root)
    if not parts:
        raise FileNotFoundError(
            f'no DFDC training part under {root} (expected '
            f'dfdc_train_part_N/metadata.json, or train/dfdc_train_part_N)')
    unknown = [p for p in val_parts if p not in parts]
    if unknown:
        raise ValueError(f'val_parts {unknown} not found among the training '
                         f'parts {sorted(parts)}')
    entries: Dict[str, Tuple[int, str, dict]] = {}  # stem -> part, dir, meta
    for num, folder in sorted(parts.items()):
        meta_path = osp.join(folder, 'metadata.json')
        if not osp.isfile(meta_path):
            raise FileNotFoundError(f'DFDC metadata not found: {meta_path}')
        for stem, meta in load_dfdc_part_metadata(meta_path).items():
            if stem in entries:
                raise ValueError(f'{meta_path}: {stem}.mp4 is also listed in '
                                 f'part {entries[stem][0]}')
            entries[stem] = (num, folder, meta)
    paths = {stem: video_path(folder, stem)
             for stem, (_, folder, _) in entries.items()}
    for stem, (num, folder, meta) in sorted(entries.items()):
        part = osp.basename(folder)
        if paths[stem] is None:
            missing.append(f'{part}/{stem}')
            continue
        split = 'val' if num in val_parts else 'train'
        kwargs = {}
        orig = meta['original']
        if orig is not None:
            kwargs = dict(extra=dict(original=orig))
            if orig in entries and paths.get(orig):
                o_num, o_folder, _ = entries[orig]
                if ('val' if o_num in val_parts else 'train') != split:
                    raise ValueError(
                        f'{part}/{stem} and its original {orig} are in '
                        f'different splits; choose val_parts by whole '
                        f'groups of parts')
                kwargs.update(index_path=paths[orig],
                              pair=f'{osp.basename(o_folder)}/{orig}')
        tasks.append(VideoTask(
            folder=part, name=stem, path=paths[stem], label=meta['label'],
            method='real' if meta['label'] == 0 else 'DFDC', split=split,
            **kwargs))
    if osp.isdir(osp.join(root, 'validation')):
        add_labelled('validation', 'val')
    return tasks, missing


def convert_dfdc(root: str,
                 out: str,
                 include_train: bool = False,
                 val_parts: Sequence[int] = (),
                 single_face_test: bool = True,
                 **options) -> dict:
    """Convert DFDC to face crops and ``test.json`` (plus ``train.json`` /
    ``val.json`` with ``include_train``) under ``out``.

    Args:
        root (str): DFDC root.
        out (str): Output folder (``data/dfdc`` for
            ``configs/_base_/datasets/dfdc.py``).
        include_train (bool): Convert the training parts and the validation
            set too. Defaults to False.
        val_parts (Sequence[int]): Training parts forming ``val.json``.
            Defaults to ().
        single_face_test (bool): Single-subject test videos only.
            Defaults to True.
        **options: Sampling, cropping and run options (``frames``,
            ``workers``, ``shard``, ``real_oversample``, ``margin``,
            ``size``, ``detector``, ``merge``, ``min_faces``, ``progress``,
            ``face_detector``) of :func:`~.engine.run_conversion`.

    Returns:
        dict: The run summary plus ``out_dir`` and ``missing``.
    """
    tasks, missing = collect_dfdc(root, include_train, val_parts,
                                  single_face_test)
    if not tasks:
        raise FileNotFoundError(f'no DFDC video to convert under {root}')
    metainfo = dict(
        dataset='DFDC', methods=['DFDC'],
        test_protocol=('single-face videos only (exactly one face in every '
                       'sampled frame)' if single_face_test else
                       'all test videos'),
        pairing='train fake: original real video from metadata.json '
        '(pair_path)')
    return run_conversion(tasks, out, metainfo, missing, **options)
