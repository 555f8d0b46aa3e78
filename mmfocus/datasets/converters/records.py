# Copyright (c) mmfocus contributors.
"""The output layout of a conversion and the per-video records: a video's
record is written last, so it marks the video done and lets a second run
skip it (or redo it when a source file changed)."""
import hashlib
import json
import os
import os.path as osp
from typing import Optional

from mmfocus.utils.io import peek_json
from .tasks import VideoTask
from .video import list_frame_files

RECORD_VERSION = 2  # 2: per-frame face counts (``face_counts``)


def frame_relpath(task: VideoTask, idx: int, kind: str = 'frames') -> str:
    """Relative path of a crop: ``<kind>/<folder>/<name>/<idx:04d>.png``."""
    return f'{kind}/{task.folder}/{task.name}/{idx:04d}.png'


def clip_relpath(task: VideoTask, clip_idx: int, idx: int,
                 kind: str = 'frames') -> str:
    """Relative path of a clip's frame crop (clip mode):
    ``<kind>/<folder>/<name>/clip<clip_idx>/<idx:04d>.png`` (a folder per
    clip, so it cannot collide with a frame-mode crop)."""
    return f'{kind}/{task.folder}/{task.name}/clip{clip_idx}/{idx:04d}.png'


def record_path(out_dir: str, task: VideoTask) -> str:
    """Per-video record (the done marker) of a task."""
    return osp.join(out_dir, 'records', task.folder, f'{task.name}.json')


def _file_sig(path: Optional[str]) -> Optional[dict]:
    if not path:
        return None
    try:
        if osp.isdir(path):  # an image sequence: every frame file
            files = [(osp.basename(p), os.stat(p))
                     for p in list_frame_files(path)]
            listing = json.dumps([[n, int(st.st_size), int(st.st_mtime_ns)]
                                  for n, st in files]).encode()
            return dict(frames=len(files),
                        size=int(sum(st.st_size for _, st in files)),
                        listing_sha1=hashlib.sha1(listing).hexdigest())
        st = os.stat(path)
    except OSError:
        return None
    return dict(size=int(st.st_size), mtime_ns=int(st.st_mtime_ns))


def _sources(task: VideoTask) -> dict:
    return dict(video=_file_sig(task.path), index=_file_sig(task.index_path),
                mask=_file_sig(task.mask_path))


def load_record(out_dir: str, task: VideoTask) -> Optional[dict]:
    """The finished record of a task, or None when the video must be
    (re)processed: no record, an unreadable one, another record version, or
    a source file (video, index video, mask video) changed since."""
    path = record_path(out_dir, task)
    if not osp.isfile(path):
        return None
    rec = peek_json(path)
    if not isinstance(rec, dict) or rec.get('version') != RECORD_VERSION \
            or rec.get('key') != task.key or rec.get('sources') != \
            _sources(task):
        return None
    return rec
