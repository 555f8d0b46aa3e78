# Copyright (c) mmfocus contributors.
"""The checkpoint an automatic ``--resume`` continues from.

mmengine's ``find_latest_checkpoint`` reads ``<work_dir>/last_checkpoint``
only; :func:`find_resume_checkpoint` also copes with a missing or stale
``last_checkpoint`` and with incomplete checkpoints.
"""
import glob
import os.path as osp
import re
import zipfile
from typing import List, Optional, Sequence, Tuple

from .checkpoint import load_checkpoint_file


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a complete checkpoint, or None if it is.

    A torch zip checkpoint is complete when its central directory (written
    last) is there and names a ``data.pkl``: a save cut short by a full disk
    or a kill lacks it. Nothing is unpickled. Other files (the legacy
    format) are loaded with :func:`load_checkpoint_file`.
    """
    if not osp.isfile(path):
        return 'no such file'
    if osp.getsize(path) == 0:
        return 'empty (0 bytes)'
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            return f'corrupt zip archive ({e})'
        if not any(n == 'data.pkl' or n.endswith('/data.pkl')
                   for n in names):
            return 'not a torch checkpoint (no data.pkl)'
        return None
    try:
        load_checkpoint_file(path)
    except (RuntimeError, ValueError, OSError) as e:
        return f'truncated or not a checkpoint ({e})'
    return None


def _numbered(folder: str, filename_tmpl: str) -> List[Tuple[int, str]]:
    pattern = re.compile('^' + re.escape(filename_tmpl).replace(
        re.escape('{}'), r'(\d+)') + '$')
    found = []
    for path in glob.glob(osp.join(glob.escape(folder), '*')):
        m = pattern.match(osp.basename(path))
        if m and osp.isfile(path):
            found.append((int(m.group(1)), path))
    return found


def find_resume_checkpoint(
        work_dir: str, filename_tmpl: str = 'iter_{}.pth',
        extra_dirs: Sequence[str] = ()) -> Tuple[Optional[str], List[str]]:
    """The checkpoint ``--resume`` (auto) should continue from.

    mmengine reads ``<work_dir>/last_checkpoint`` only: without it a run
    restarts from iteration 0 and overwrites the checkpoints, and in a copied
    work dir the absolute path in it names the *original* dir's file. Here:

    1. ``last_checkpoint``, resolved in the work dir: the file of that name
       in ``work_dir`` if there is one (a warning if the recorded path was
       elsewhere), else the recorded path itself (a warning: it is outside
       the work dir, e.g. a ``CheckpointHook`` ``out_dir``);
    2. otherwise, or if that file is missing or incomplete (a warning
       naming it), the newest complete ``filename_tmpl`` checkpoint in
       ``work_dir`` and ``extra_dirs``, skipping incomplete ones (a warning
       naming each).

    Args:
        work_dir (str): The run's work dir.
        filename_tmpl (str): Checkpoint names, ``'iter_{}.pth'`` or
            ``'epoch_{}.pth'`` (the ``CheckpointHook`` ``filename_tmpl``).
            Defaults to ``'iter_{}.pth'``.
        extra_dirs (Sequence[str]): More folders that hold this run's
            checkpoints (a ``CheckpointHook`` ``out_dir``). Defaults to ().

    Returns:
        tuple: ``(path, warnings)``; ``path`` is None when there is no
        checkpoint at all (a fresh start).

    Raises:
        RuntimeError: there are checkpoints, but none is complete.
    """
    work_dir = osp.abspath(work_dir)
    warnings: List[str] = []
    skipped: List[str] = []
    last_file = osp.join(work_dir, 'last_checkpoint')
    tried = set()
    if osp.isfile(last_file):
        with open(last_file) as f:
            recorded = f.read().strip()
        cand = None
        if not recorded:
            warnings.append(f'{last_file} is empty')
        else:
            local = osp.join(work_dir, osp.basename(recorded))
            rec_abs = osp.abspath(osp.join(work_dir, recorded))
            if osp.isfile(local):
                cand = local
                if osp.normpath(rec_abs) != osp.normpath(local) and not (
                        osp.exists(rec_abs) and osp.samefile(rec_abs, local)):
                    warnings.append(
                        f'{last_file} names {recorded}, outside this work '
                        f'dir (a copied work dir?): resuming from {local}, '
                        'the file of that name here')
            elif osp.isfile(rec_abs):
                cand = rec_abs
                warnings.append(
                    f'{last_file} names {recorded}, outside the work dir '
                    f'{work_dir}: resuming from it')
            else:
                warnings.append(f'{last_file} names {recorded}, which does '
                                'not exist')
        if cand is not None:
            why = checkpoint_problem(cand)
            if why is None:
                return cand, warnings
            tried.add(osp.abspath(cand))
            skipped.append(f'{cand} ({why})')
            warnings.append(f'skipping {cand}: {why}')
    found = []
    for folder in (work_dir, ) + tuple(extra_dirs):
        if osp.isdir(folder):
            found += _numbered(folder, filename_tmpl)
    found.sort(key=lambda x: (x[0], osp.getmtime(x[1])), reverse=True)
    for _, path in found:
        if osp.abspath(path) in tried:
            continue
        why = checkpoint_problem(path)
        if why is None:
            if not osp.isfile(last_file):
                warnings.append(f'no last_checkpoint in {work_dir}: resuming '
                                f'from the newest complete checkpoint, {path}')
            else:
                warnings.append(f'resuming from {path} instead')
            return path, warnings
        tried.add(osp.abspath(path))
        skipped.append(f'{path} ({why})')
        warnings.append(f'skipping {path}: {why}')
    if skipped:
        raise RuntimeError(
            f'no complete checkpoint to resume from in {work_dir}: '
            + '; '.join(skipped) + ' (pass --resume FILE, or remove them to '
            'start afresh)')
    return None, warnings
