# Copyright (c) mmfocus contributors.
"""Celeb-DF v2 in its published layout -> face crops + annotations.

Layout (as downloaded)::

    <root>/Celeb-real/idX_ZZZZ.mp4            590 real celebrity videos
    <root>/YouTube-real/ZZZZZ.mp4             300 more real videos
    <root>/Celeb-synthesis/idX_idY_ZZZZ.mp4   5639 fakes
    <root>/List_of_testing_videos.txt         the official test set (518)

``List_of_testing_videos.txt`` has one ``<label> <folder>/<name>.mp4`` per
line with Celeb-DF's own convention **1 = real, 0 = fake** (the opposite of
mmfocus' ``gt_label``; the converter flips it and checks it against the
folder).

Naming: ``idX_idY_ZZZZ`` is the real video ``Celeb-real/idX_ZZZZ`` (the
target: its frames) with the face of celebrity ``idY`` swapped in, so a fake
is sampled at its target's frame indices and its ``pair_path`` is the
target's crop of the same frame (when the target is converted too).

The field tests on the official list only (FoCus: cross-dataset test, method
section 3); the remaining videos become ``train.json`` with
``include_train=True``.
"""
import glob
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

from .engine import VideoTask, run_conversion

#: folder -> mmfocus label (0 real, 1 fake)
CELEBDF_FOLDERS = {'Celeb-real': 0, 'YouTube-real': 0, 'Celeb-synthesis': 1}
TEST_LIST = 'List_of_testing_videos.txt'
_FAKE = re.compile(r'^(id\d+)_(id\d+)_(\d+)$')


def load_celebdf_test_list(path: str) -> Dict[str, int]:
    """Read ``List_of_testing_videos.txt``.

    Args:
        path (str): The list file.

    Returns:
        dict[str, int]: ``'<folder>/<name>'`` (no ``.mp4``) -> mmfocus
        label (0 real, 1 fake).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'Celeb-DF test list not found: {path}')
    out: Dict[str, int] = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or parts[0] not in ('0', '1'):
                raise ValueError(f'{path}:{lineno}: expected "<1 real | 0 '
                                 f'fake> <folder>/<video>.mp4", got {line!r}')
            rel = parts[1].replace('\\', '/')
            folder = rel.split('/')[0]
            if folder not in CELEBDF_FOLDERS or not rel.endswith('.mp4') \
                    or rel.count('/') != 1:
                raise ValueError(f'{path}:{lineno}: unknown video {rel!r} '
                                 f'(expected one of '
                                 f'{sorted(CELEBDF_FOLDERS)}/<name>.mp4)')
            label = 1 - int(parts[0])  # Celeb-DF: 1 real, 0 fake
            if label != CELEBDF_FOLDERS[folder]:
                raise ValueError(f'{path}:{lineno}: label {parts[0]} does '
                                 f'not match folder {folder} (1 = real, '
                                 f'0 = fake)')
            key = rel[:-len('.mp4')]
            if key in out:
                raise ValueError(f'{path}:{lineno}: {rel} listed twice')
            out[key] = label
    if not out:
        raise ValueError(f'{path}: no video listed')
    return out


def collect_celebdf(root: str, include_train: bool = False,
                    test_list: Optional[str] = None
                    ) -> Tuple[List[VideoTask], List[str], int]:
    """List the Celeb-DF v2 videos to convert.

    Args:
        root (str): Celeb-DF v2 root.
        include_train (bool): Also convert the videos outside the test list
            (as the ``train`` split). Defaults to False.
        test_list (str, optional): Test list file. Defaults to
            ``<root>/List_of_testing_videos.txt``.

    Returns:
        tuple: ``tasks``, ``missing`` (listed videos absent from the
        download) and ``ignored`` (videos left out: not in the test list
        and ``include_train`` is False).
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'Celeb-DF root not found: {root}')
    test = load_celebdf_test_list(test_list or osp.join(root, TEST_LIST))
    videos: Dict[str, Dict[str, str]] = {}
    for folder in CELEBDF_FOLDERS:
        path = osp.join(root, folder)
        if not osp.isdir(path):
            raise FileNotFoundError(f'Celeb-DF folder not found: {path}')
        videos[folder] = {
            osp.splitext(osp.basename(p))[0]: p
            for p in sorted(glob.glob(osp.join(path, '*.mp4')))
        }
    chosen = {f'{folder}/{name}'
              for folder, names in videos.items() for name in names
              if include_train or f'{folder}/{name}' in test}
    tasks, ignored = [], 0
    for folder, label in CELEBDF_FOLDERS.items():
        for name, path in videos[folder].items():
            key = f'{folder}/{name}'
            if key not in chosen:
                ignored += 1
                continue
            split = 'test' if key in test else 'train'
            kwargs = {}
            m = _FAKE.match(name) if label else None
            if m:
                target = f'{m.group(1)}_{m.group(3)}'
                kwargs = dict(
                    index_path=videos['Celeb-real'].get(target),
                    pair=(f'Celeb-real/{target}'
                          if f'Celeb-real/{target}' in chosen else None),
                    extra=dict(target=target, source=m.group(2)))
            tasks.append(VideoTask(
                folder=folder, name=name, path=path, label=label,
                method='real' if label == 0 else folder, split=split,
                **kwargs))
    missing = sorted(k for k in test
                     if k.split('/')[1] not in videos[k.split('/')[0]])
    return tasks, missing, ignored


def convert_celebdf(root: str,
                    out: str,
                    include_train: bool = False,
                    test_list: Optional[str] = None,
                    **options) -> dict:
    """Convert Celeb-DF v2 to face crops and ``test.json`` (and
    ``train.json`` with ``include_train``) under ``out``.

    Args:
        root (str): Celeb-DF v2 root.
        out (str): Output folder (``data/celebdf-v2`` for
            ``configs/_base_/datasets/celebdf-v2.py``).
        include_train (bool): Convert the non-test videos too.
            Defaults to False.
        test_list (str, optional): Test list. Defaults to the one in root.
        **options: Sampling, cropping and run options (``frames``,
            ``workers``, ``shard``, ``real_oversample``, ``margin``,
            ``size``, ``detector``, ``merge``, ``min_faces``, ``progress``,
            ``face_detector``) of :func:`~.engine.run_conversion`.

    Returns:
        dict: The run summary plus ``out_dir``, ``missing``, ``ignored``.
    """
    tasks, missing, ignored = collect_celebdf(root, include_train, test_list)
    if not tasks:
        raise FileNotFoundError(f'no Celeb-DF video to convert under {root}')
    metainfo = dict(
        dataset='Celeb-DF-v2', methods=['Celeb-synthesis'],
        pairing='fake idX_idY_ZZZZ: target Celeb-real/idX_ZZZZ '
        '(pair_path), source identity idY')
    summary = run_conversion(tasks, out, metainfo, missing, **options)
    summary['ignored'] = ignored
    return summary
