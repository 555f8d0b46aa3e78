# Copyright (c) mmfocus contributors.
"""Video dataset -> face crops + annotation files, shared by every converter.

A dataset reader (e.g. :mod:`.ffpp`) lists the videos as
:class:`VideoTask` s; :func:`convert_videos` does the rest:

1. per video (in a process pool, one shard of the list; a video may also be
   a folder of frame images): sample frames evenly
   (:func:`~.video.sample_indices`; a fake uses the frame count of its real
   twin so both give the same indices), detect the faces offline (their
   number per frame is recorded), crop the largest one (margin, size), crop
   the manipulation mask with the same affine when the dataset has one, and
   write the crops atomically under ``frames/<folder>/<video>/<frame>.png``
   (``masks/...`` for masks);
2. write the video's record ``records/<folder>/<video>.json`` last and
   atomically: it is the "done" marker, so a second run skips finished
   videos (and redoes a video whose source file changed);
3. when every video of the list has a record (or on ``merge='only'``),
   write ``train.json`` / ``val.json`` / ``test.json`` (mmengine
   BaseDataset format, read by
   :class:`~mmfocus.datasets.FaceForgeryDataset`) and ``report.json``
   (corrupt videos, frames without a face, videos with too few faces,
   videos left out because a frame does not show exactly one face when the
   task asks for single-face videos, videos missing from the download).

All paths in the outputs are relative to the output folder, so the folder
can be moved.
"""
import hashlib
import json
import multiprocessing as mp
import os
import os.path as osp
import shutil
import sys
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfocus.faces.detectors import DEFAULT_DETECTOR
from ..annotation import dump_annotation
from mmfocus.utils.io import atomic_save_image, atomic_write, \
    atomic_write_json
from .crops import crop_frame, crop_mask, largest_face
from .video import (VideoReadError, list_frame_files, probe_frame_count,
                    read_frames, sample_indices)
from mmfocus.faces import build_face_detector
from mmfocus.utils import register_all_modules

SPLITS = ('train', 'val', 'test')
RECORD_VERSION = 2  # 2: per-frame face counts (``face_counts``)
SETTINGS_FILE = 'settings.json'
REPORT_FILE = 'report.json'
# DEFAULT_DETECTOR (imported above, re-exported): mmfocus' one default
# detector, mmfocus.faces.DEFAULT_DETECTOR (dlib HOG on frames downscaled to
# 640 px, 68 landmarks fitted at full resolution), shared with inference.


@dataclass
class VideoTask:
    """One video to convert.

    Args:
        folder (str): Output sub-folder (e.g. ``'real'``, ``'Deepfakes'``);
            ``<folder>/<name>`` is the video id in the annotations, unique
            over the dataset.
        name (str): Video name (file stem).
        path (str): Video file.
        label (int): 0 real, 1 fake.
        method (str): The annotation's ``method`` (``'real'`` for every
            real video, as :class:`FaceForgeryDataset` expects).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        index_path (str, optional): Video whose frame count sets the
            sampled indices (a fake's real twin, so pairs align). Defaults
            to None (the video itself).
        mask_path (str, optional): Mask video, read at the same indices.
            Defaults to None.
        pair (str, optional): Video id (``folder/name``) of the real twin;
            a fake frame's ``pair_path`` is that video's crop of the same
            frame index. Defaults to None.
        extra (dict): Fields copied into every annotation entry of the
            video (e.g. FF++'s target and source ids). Defaults to {}.
        single_face (bool): Keep the video in the annotation only when the
            detector found exactly one face in every decoded sampled frame
            (DFDC's single-subject test protocol); otherwise it is left out
            and listed under ``not_single_face`` in the report. Applied when
            the annotations are written, so it never forces a video to be
            converted again. Defaults to False.
    """
    folder: str
    name: str
    path: str
    label: int
    method: str
    split: str
    index_path: Optional[str] = None
    mask_path: Optional[str] = None
    pair: Optional[str] = None
    extra: Dict = field(default_factory=dict)
    single_face: bool = False

    @property
    def key(self) -> str:
        """The video id: ``<folder>/<name>``."""
        return f'{self.folder}/{self.name}'


@dataclass
class ConvertSettings:
    """What decides the crops of a video (checked on every resumed run).

    Args:
        frames (int): Frames sampled evenly per video. Defaults to 10.
        margin (float): Crop side relative to the face extent.
            Defaults to 1.3.
        size (int): Crop side in pixels. Defaults to 224.
        mask_thr (int): Mask binarisation threshold (brightest channel
            > thr). Defaults to 16.
        detector (dict): Face detector config
            (:func:`mmfocus.faces.build_face_detector`). Defaults to
            :data:`DEFAULT_DETECTOR`.
    """
    frames: int = 10
    margin: float = 1.3
    size: int = 224
    mask_thr: int = 16
    detector: Dict = field(default_factory=lambda: dict(DEFAULT_DETECTOR))

    def __post_init__(self) -> None:
        if int(self.frames) <= 0:
            raise ValueError(f'frames must be positive, got {self.frames}')
        if float(self.margin) <= 0:
            raise ValueError(f'margin must be positive, got {self.margin}')
        if int(self.size) < 8:
            raise ValueError(f'size must be >= 8, got {self.size}')
        if not 0 <= int(self.mask_thr) < 255:
            raise ValueError(f'mask_thr must be in [0, 255), got '
                             f'{self.mask_thr}')
        if not isinstance(self.detector, dict) or 'type' not in \
                self.detector:
            raise TypeError(f'detector must be a config dict with a "type", '
                            f'got {self.detector!r}')
        self.frames, self.size = int(self.frames), int(self.size)
        self.margin, self.mask_thr = float(self.margin), int(self.mask_thr)

    def as_dict(self) -> dict:
        return asdict(self)


def parse_shard(text: Optional[str]) -> Optional[Tuple[int, int]]:
    """Parse ``'i/n'`` (0-based shard ``i`` of ``n``).

    Args:
        text (str, optional): e.g. ``'0/4'``; None means no sharding.

    Returns:
        tuple[int, int] | None: ``(i, n)``.
    """
    if text is None:
        return None
    try:
        i, n = (int(v) for v in str(text).split('/'))
    except ValueError:
        raise ValueError(f'--shard must be "i/n" (0 <= i < n), got '
                         f'{text!r}') from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f'--shard must be "i/n" with 0 <= i < n, got '
                         f'{text!r}')
    return i, n


# --------------------------------------------------------------- layout
def frame_relpath(task: VideoTask, idx: int, kind: str = 'frames') -> str:
    """Relative path of a crop: ``<kind>/<folder>/<name>/<idx:04d>.png``."""
    return f'{kind}/{task.folder}/{task.name}/{idx:04d}.png'


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
    try:
        with open(path) as f:
            rec = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get('version') != RECORD_VERSION \
            or rec.get('key') != task.key or rec.get('sources') != \
            _sources(task):
        return None
    return rec


# ------------------------------------------------------------ one video
def _round_list(arr, ndigits: int) -> Optional[list]:
    if arr is None:
        return None
    return np.round(np.asarray(arr, dtype=np.float64), ndigits).tolist()


def process_video(task: VideoTask, out_dir: str, settings: ConvertSettings,
                  detector) -> dict:
    """Convert one video and write its record (last, atomically).

    Corrupt or truncated videos never raise: the record says what happened
    (``status`` ``'ok'``, ``'truncated'`` (some sampled frames could not be
    decoded) or ``'corrupt'`` (nothing decodable), with ``error``). Indices
    of the twin past this video's declared length (a fake a few frames
    shorter than its real) are listed as ``beyond_end``.

    Args:
        task (VideoTask): The video.
        out_dir (str): Output folder of the dataset.
        settings (ConvertSettings): Sampling and cropping settings.
        detector (BaseFaceDetector): Face detector.

    Returns:
        dict: The record (also written to :func:`record_path`).
    """
    sources = _sources(task)
    for kind in ('frames', 'masks'):  # leftovers of an interrupted run
        shutil.rmtree(osp.join(out_dir, kind, task.folder, task.name),
                      ignore_errors=True)
    rec = dict(version=RECORD_VERSION, key=task.key, label=task.label,
               status='ok', error=None, num_frames=None, indices=[],
               frames=[], no_face=[], face_counts=[], unreadable=[],
               beyond_end=[], mask_missing=[], mask_error=None,
               sources=sources)
    try:
        num_frames = probe_frame_count(task.path)
        rec['num_frames'] = num_frames
        index_frames = num_frames
        if task.index_path:
            try:
                index_frames = probe_frame_count(task.index_path)
            except VideoReadError as e:
                rec['error'] = (f'twin video unreadable, sampled own frames '
                                f'({e})')
        indices = sample_indices(index_frames, settings.frames)
        rec['indices'] = indices
        # a fake shorter than its twin: those indices do not exist in it
        rec['beyond_end'] = [i for i in indices if i >= num_frames]
        frames, unreadable = read_frames(
            task.path, [i for i in indices if i < num_frames])
    except (VideoReadError, cv2.error) as e:
        rec.update(status='corrupt', error=str(e))
        atomic_write_json(record_path(out_dir, task), rec, indent=None)
        return rec
    rec['unreadable'] = unreadable
    if not frames:
        rec.update(status='corrupt', error=f'no sampled frame could be '
                   f'decoded: {task.path}')
        atomic_write_json(record_path(out_dir, task), rec, indent=None)
        return rec
    if unreadable:
        rec['status'] = 'truncated'
    masks: Dict[int, np.ndarray] = {}
    if task.mask_path:
        try:
            masks, _ = read_frames(task.mask_path, sorted(frames))
        except (VideoReadError, cv2.error) as e:
            rec['mask_error'] = str(e)
    for idx in sorted(frames):
        img = frames[idx]
        faces = detector.detect(img)
        rec['face_counts'].append([idx, len(faces)])
        face = largest_face(faces)
        if face is None:
            rec['no_face'].append(idx)
            continue
        crop, lmk, affine = crop_frame(img, face, settings.margin,
                                       settings.size)
        img_path = frame_relpath(task, idx)
        atomic_save_image(osp.join(out_dir, img_path), crop)
        mask_path = None
        if task.mask_path:
            if idx in masks:
                mask = crop_mask(masks[idx], affine, settings.size,
                                 img.shape[:2], settings.mask_thr)
                mask_path = frame_relpath(task, idx, 'masks')
                atomic_save_image(osp.join(out_dir, mask_path), mask)
            else:
                rec['mask_missing'].append(idx)
        rec['frames'].append(dict(
            frame_idx=idx, img_path=img_path, mask_path=mask_path,
            landmarks=_round_list(lmk, 2), crop_affine=_round_list(affine, 6),
            bbox=_round_list(face.bbox, 1), score=round(float(face.score),
                                                         4)))
    atomic_write_json(record_path(out_dir, task), rec, indent=None)
    return rec


_WORKER: dict = {}


def _init_worker(out_dir: str, settings: dict) -> None:
    register_all_modules(init_default_scope=False)
    cv2.setNumThreads(1)
    _WORKER['out_dir'] = out_dir
    _WORKER['settings'] = ConvertSettings(**settings)
    _WORKER['detector'] = build_face_detector(
        _WORKER['settings'].detector)


def _run_task(task: VideoTask) -> Tuple[str, dict]:
    rec = process_video(task, _WORKER['out_dir'], _WORKER['settings'],
                        _WORKER['detector'])
    return task.key, _brief(rec)


def _brief(rec: dict) -> dict:
    return dict(status=rec['status'], error=rec['error'],
                faces=len(rec['frames']), no_face=len(rec['no_face']),
                unreadable=len(rec['unreadable']))


# -------------------------------------------------------------- merging
def merge_records(tasks: Sequence[VideoTask], out_dir: str, metainfo: dict,
                  real_oversample: int = 1, min_faces: int = 1,
                  missing: Sequence[str] = ()) -> dict:
    """Write ``{train,val,test}.json`` and ``report.json`` from the records.

    A split file is written when at least one task is in that split (it may
    hold no entry, e.g. when all its videos are corrupt).

    Args:
        tasks (Sequence[VideoTask]): Every video of the dataset (all
            shards); each must have a finished record.
        out_dir (str): Output folder.
        metainfo (dict): Base ``metainfo`` of the annotation files.
        real_oversample (int): Each real entry of the train split is
            repeated this many times (class balance). Defaults to 1.
        min_faces (int): Videos with fewer faces are listed in the report.
            Defaults to 1.
        missing (Sequence[str]): Videos of the official split absent from
            the download (listed in the report). Defaults to ().

    Returns:
        dict: The report (also written to ``report.json``).
    """
    if real_oversample < 1:
        raise ValueError(f'real_oversample must be >= 1, got '
                         f'{real_oversample}')
    records = {}
    for task in tasks:
        rec = load_record(out_dir, task)
        if rec is None:
            raise RuntimeError(f'video {task.key} has no finished record '
                               f'under {out_dir}/records (not converted yet)')
        records[task.key] = rec
    real_frames = {
        t.key: {fr['frame_idx']: fr['img_path']
                for fr in records[t.key]['frames']}
        for t in tasks if t.label == 0
    }
    present = [s for s in SPLITS if any(t.split == s for t in tasks)]
    data = {s: [] for s in present}
    stats = {s: dict(videos=0, real_frames=0, fake_frames=0, entries=0,
                     excluded=0) for s in present}
    report = dict(
        corrupt={}, truncated={}, beyond_end={}, few_faces={}, no_face={},
        mask_problems={}, unpaired={}, not_single_face={},
        missing=sorted(missing))
    totals = dict(videos=len(tasks), ok=0, truncated=0, corrupt=0,
                  frames_sampled=0, faces=0, no_face_frames=0,
                  unreadable_frames=0, beyond_end_frames=0, masks=0,
                  unpaired_fake_frames=0)
    for task in tasks:
        if task.split not in SPLITS:
            raise ValueError(f'{task.key}: split must be one of {SPLITS}, '
                             f'got {task.split!r}')
        rec = records[task.key]
        totals[rec['status']] += 1
        totals['frames_sampled'] += len(rec['indices'])
        totals['faces'] += len(rec['frames'])
        totals['no_face_frames'] += len(rec['no_face'])
        totals['unreadable_frames'] += len(rec['unreadable'])
        totals['beyond_end_frames'] += len(rec['beyond_end'])
        if rec['beyond_end']:
            report['beyond_end'][task.key] = rec['beyond_end']
        if rec['status'] == 'corrupt':
            report['corrupt'][task.key] = rec['error']
        elif rec['status'] == 'truncated':
            report['truncated'][task.key] = rec['unreadable']
        if rec['no_face']:
            report['no_face'][task.key] = rec['no_face']
        if rec['status'] != 'corrupt' and len(rec['frames']) < min_faces:
            report['few_faces'][task.key] = dict(
                faces=len(rec['frames']), sampled=len(rec['indices']))
        if rec['mask_error'] or rec['mask_missing']:
            report['mask_problems'][task.key] = dict(
                error=rec['mask_error'], frames=rec['mask_missing'])
        st = stats[task.split]
        if task.single_face and rec['status'] != 'corrupt':
            counts = {str(i): n for i, n in rec['face_counts'] if n != 1}
            if counts:  # frame index -> faces found there
                report['not_single_face'][task.key] = counts
                st['excluded'] += 1
                continue
        st['videos'] += 1
        twin = real_frames.get(task.pair, {}) if task.pair else {}
        repeat = real_oversample if (task.label == 0
                                     and task.split == 'train') else 1
        for fr in rec['frames']:
            pair_path = twin.get(fr['frame_idx']) if task.pair else None
            if task.pair and pair_path is None:
                totals['unpaired_fake_frames'] += 1
                report['unpaired'].setdefault(task.key, []).append(
                    fr['frame_idx'])
            totals['masks'] += fr['mask_path'] is not None
            entry = dict(
                img_path=fr['img_path'], gt_label=task.label,
                video_id=task.key, frame_idx=fr['frame_idx'],
                method=task.method, mask_path=fr['mask_path'],
                pair_path=pair_path, landmarks=fr['landmarks'],
                crop_affine=fr['crop_affine'], **task.extra)
            data[task.split].extend([entry] * repeat)
            st['real_frames' if task.label == 0 else 'fake_frames'] += 1
            st['entries'] += repeat
    for split in present:
        meta = dict(metainfo, split=split,
                    real_oversample=real_oversample if split == 'train'
                    else 1)
        atomic_write(osp.join(out_dir, f'{split}.json'),
                     dump_annotation(meta, data[split]).encode())
    totals['missing_videos'] = len(missing)
    totals['few_face_videos'] = len(report['few_faces'])
    totals['not_single_face_videos'] = len(report['not_single_face'])
    full = dict(dataset=metainfo.get('dataset'), min_faces=min_faces,
                summary=totals, splits=stats, **report)
    atomic_write_json(osp.join(out_dir, REPORT_FILE), full)
    return full


# ------------------------------------------------------------- the run
def _check_settings(out_dir: str, settings: dict) -> None:
    path = osp.join(out_dir, SETTINGS_FILE)
    if osp.isfile(path):
        try:
            with open(path) as f:
                old = json.load(f)
        except ValueError as e:
            raise ValueError(f'unreadable {path}: {e}') from None
        if old != settings:
            diff = sorted(k for k in set(old) | set(settings)
                          if old.get(k) != settings.get(k))
            detail = ', '.join(f'{k}: {old.get(k)!r} -> {settings.get(k)!r}'
                               for k in diff)
            raise ValueError(
                f'{out_dir} was converted with other settings ({detail}); '
                f'use another output folder or the same settings')
    else:
        atomic_write_json(path, settings)


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit='video', disable=not enabled,
                dynamic_ncols=True, smoothing=0.1)


def convert_videos(tasks: Sequence[VideoTask],
                   out_dir: str,
                   settings: Optional[ConvertSettings] = None,
                   metainfo: Optional[dict] = None,
                   workers: int = 1,
                   shard: Optional[Tuple[int, int]] = None,
                   merge: str = 'auto',
                   real_oversample: int = 1,
                   min_faces: Optional[int] = None,
                   missing: Sequence[str] = (),
                   progress: bool = True,
                   detector=None,
                   log: Callable[[str], None] = None) -> dict:
    """Convert videos to face crops, resumably, and write the annotations.

    Args:
        tasks (Sequence[VideoTask]): Every video of the dataset (the
            same list in every shard).
        out_dir (str): Output folder (crops, records, annotations).
        settings (ConvertSettings, optional): Defaults to
            ``ConvertSettings()``.
        metainfo (dict, optional): Base ``metainfo`` of the annotations
            (``dataset``, ``classes``, ...). Defaults to None.
        workers (int): Processes for face detection. Defaults to 1
            (in this process).
        shard (tuple[int, int], optional): ``(i, n)``: process only every
            n-th video, starting at the i-th. Defaults to None.
        merge (str): ``'auto'`` (write the annotations when every video has
            a record), ``'only'`` (only write them; error when a record is
            missing) or ``'never'``. Defaults to ``'auto'``.
        real_oversample (int): Repeat real train entries. Defaults to 1.
        min_faces (int, optional): Videos with fewer faces are listed in
            the report. Defaults to ``max(1, frames // 2)``.
        missing (Sequence[str]): Split videos absent from the download,
            for the report. Defaults to ().
        progress (bool): Show a progress bar. Defaults to True.
        detector (BaseFaceDetector, optional): A ready detector for
            ``workers=1`` (tests); built from ``settings.detector`` when
            None.
        log (callable, optional): Message sink. Defaults to printing to
            stderr above the progress bar.

    Returns:
        dict: Summary: ``total``, ``selected`` (this shard), ``processed``,
        ``skipped``, ``corrupt`` / ``truncated`` (keys processed now),
        ``pending`` (videos of any shard without a record), ``merged`` and,
        when merged, the ``report``.
    """
    from tqdm import tqdm
    if log is None:
        def log(msg):
            tqdm.write(msg, file=sys.stderr)
    settings = settings or ConvertSettings()
    metainfo = dict(metainfo or {})
    metainfo.setdefault('classes', ['real', 'fake'])
    if merge not in ('auto', 'only', 'never'):
        raise ValueError(f"merge must be 'auto', 'only' or 'never', got "
                         f'{merge!r}')
    if workers < 1:
        raise ValueError(f'workers must be >= 1, got {workers}')
    if real_oversample < 1:
        raise ValueError(f'real_oversample must be >= 1, got '
                         f'{real_oversample}')
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ValueError(f'duplicate video ids: {dup[:5]}')
    for t in tasks:
        if not t.name or '/' in t.name or '\\' in t.name or \
                t.name.startswith('.'):
            raise ValueError(f'bad video name {t.name!r} ({t.path})')
        if t.split not in SPLITS:
            raise ValueError(f'{t.key}: split must be one of {SPLITS}, got '
                             f'{t.split!r}')
        if t.label not in (0, 1):
            raise ValueError(f'{t.key}: label must be 0 or 1, got '
                             f'{t.label!r}')
    if min_faces is None:
        min_faces = max(1, settings.frames // 2)
    out_dir = osp.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    _check_settings(out_dir, dict(
        dataset=metainfo.get('dataset'), **settings.as_dict()))

    order = sorted(tasks, key=lambda t: t.key)
    selected = order if shard is None else order[shard[0]::shard[1]]
    summary = dict(total=len(tasks), selected=len(selected), processed=0,
                   skipped=0, corrupt=[], truncated=[], pending=0,
                   merged=False)
    if merge != 'only':
        todo = [t for t in selected if load_record(out_dir, t) is None]
        summary['skipped'] = len(selected) - len(todo)
        if summary['skipped']:
            log(f'skipping {summary["skipped"]} finished video(s) of '
                f'{len(selected)}')
        desc = metainfo.get('dataset', 'videos')
        if shard is not None:
            desc += f' [shard {shard[0]}/{shard[1]}]'
        if todo:
            _process_all(todo, out_dir, settings, workers, detector,
                         _progress(len(todo), desc, progress), summary, log)
    summary['pending'] = sum(load_record(out_dir, t) is None for t in tasks)
    if merge == 'only' or (merge == 'auto' and not summary['pending']):
        if summary['pending']:
            pend = [t.key for t in tasks if load_record(out_dir, t) is None]
            raise RuntimeError(
                f'{len(pend)} video(s) not converted yet (e.g. '
                f'{", ".join(pend[:3])}): run the remaining shards first')
        summary['report'] = merge_records(
            tasks, out_dir, metainfo, real_oversample=real_oversample,
            min_faces=min_faces, missing=missing)
        summary['merged'] = True
    elif merge == 'auto':
        log(f'{summary["pending"]} video(s) of other shards are not done '
            f'yet; the annotation files are written when the last shard '
            f'finishes (or with --merge-only)')
    return summary


def _process_all(todo, out_dir, settings, workers, detector, bar, summary,
                 log) -> None:

    def done(key, brief):
        summary['processed'] += 1
        if brief['status'] == 'corrupt':
            summary['corrupt'].append(key)
            log(f'skipped corrupt video {key}: {brief["error"]}')
        elif brief['status'] == 'truncated':
            summary['truncated'].append(key)
            log(f'truncated video {key}: {brief["unreadable"]} sampled '
                f'frame(s) unreadable')
        if brief['no_face'] and brief['status'] != 'corrupt':
            log(f'{key}: no face in {brief["no_face"]} of '
                f'{brief["faces"] + brief["no_face"]} decoded frame(s)')
        bar.update(1)

    try:
        if workers == 1:
            if detector is None:
                detector = build_face_detector(settings.detector)
            for task in todo:
                rec = process_video(task, out_dir, settings, detector)
                done(task.key, _brief(rec))
        else:
            # not 'fork': a child of a process that already ran OpenCV's
            # thread pool can deadlock in cv2 (opencv/opencv#5150)
            if 'forkserver' in mp.get_all_start_methods():
                ctx = mp.get_context('forkserver')
                ctx.set_forkserver_preload([__name__])
            else:
                ctx = mp.get_context('spawn')
            with ctx.Pool(workers, initializer=_init_worker,
                          initargs=(out_dir, settings.as_dict())) as pool:
                for key, brief in pool.imap_unordered(_run_task, todo):
                    done(key, brief)
    finally:
        bar.close()


def run_conversion(tasks: Sequence[VideoTask],
                   out_dir: str,
                   metainfo: dict,
                   missing: Sequence[str] = (),
                   *,
                   frames: int = 10,
                   workers: int = 1,
                   shard: Optional[str] = None,
                   real_oversample: int = 1,
                   margin: float = 1.3,
                   size: int = 224,
                   detector: Optional[dict] = None,
                   mask_thr: int = 16,
                   merge: str = 'auto',
                   min_faces: Optional[int] = None,
                   progress: bool = True,
                   face_detector=None) -> dict:
    """Convert a dataset's listed videos with the options every
    ``convert_<dataset>`` function takes (its ``**options``).

    Builds the :class:`ConvertSettings`, adds them to ``metainfo``
    (``frames_per_video``, ``margin``, ``size``, ``detector``) and runs
    :func:`convert_videos`.

    Args:
        tasks (Sequence[VideoTask]): The dataset's videos.
        out_dir (str): Output folder.
        metainfo (dict): Dataset part of the annotations' ``metainfo``
            (``dataset``, ``methods``, ``pairing``, ...).
        missing (Sequence[str]): Listed videos absent from the download.
            Defaults to ().
        frames (int): Frames per video. Defaults to 10.
        workers (int): Processes. Defaults to 1.
        shard (str, optional): ``'i/n'`` (:func:`parse_shard`).
            Defaults to None.
        real_oversample (int): Repeat real train entries. Defaults to 1.
        margin (float): Crop margin. Defaults to 1.3.
        size (int): Crop side. Defaults to 224.
        detector (dict, optional): Detector config. Defaults to
            :data:`DEFAULT_DETECTOR`.
        mask_thr (int): Mask binarisation threshold. Defaults to 16.
        merge (str): ``'auto'``, ``'only'`` or ``'never'``.
            Defaults to ``'auto'``.
        min_faces (int, optional): Report videos with fewer faces.
            Defaults to ``max(1, frames // 2)``.
        progress (bool): Progress bar. Defaults to True.
        face_detector (BaseFaceDetector, optional): A ready detector
            (``workers=1`` only). Defaults to None.

    Returns:
        dict: The :func:`convert_videos` summary plus ``out_dir`` (absolute)
        and ``missing``.
    """
    kwargs = dict(frames=frames, margin=margin, size=size, mask_thr=mask_thr)
    if detector is not None:
        kwargs['detector'] = detector
    settings = ConvertSettings(**kwargs)
    metainfo = dict(metainfo, frames_per_video=settings.frames,
                    margin=settings.margin, size=settings.size,
                    detector=settings.detector)
    summary = convert_videos(
        tasks, out_dir, settings, metainfo, workers=workers,
        shard=parse_shard(shard), merge=merge,
        real_oversample=real_oversample, min_faces=min_faces,
        missing=missing, progress=progress, detector=face_detector)
    summary.update(out_dir=osp.abspath(out_dir), missing=list(missing))
    return summary


def format_summary(summary: dict) -> str:
    """Human-readable lines for a :func:`convert_videos` summary."""
    lines = [f"videos: {summary['selected']} selected of {summary['total']}"
             f", {summary['processed']} converted now, "
             f"{summary['skipped']} already done"]
    if summary['corrupt']:
        lines.append(f"  corrupt (skipped): {len(summary['corrupt'])}: "
                     f"{', '.join(summary['corrupt'][:10])}")
    if summary['truncated']:
        lines.append(f"  truncated: {len(summary['truncated'])}: "
                     f"{', '.join(summary['truncated'][:10])}")
    if not summary['merged']:
        lines.append(f"  annotations not written: {summary['pending']} "
                     f"video(s) pending")
        return '\n'.join(lines)
    rep = summary['report']
    tot = rep['summary']
    lines.append(
        f"  all {tot['videos']} videos: {tot['ok']} ok, {tot['truncated']} "
        f"truncated, {tot['corrupt']} corrupt; {tot['faces']} faces from "
        f"{tot['frames_sampled']} sampled frames, {tot['no_face_frames']} "
        f"frame(s) without a face, {tot['masks']} masks")
    for split, st in rep['splits'].items():
        left_out = (f" ({st['excluded']} left out)"
                    if st.get('excluded') else '')
        lines.append(f"  {split:5s}: {st['videos']} videos{left_out}, "
                     f"{st['real_frames']} real + {st['fake_frames']} fake "
                     f"frames -> {st['entries']} entries")
    if tot['few_face_videos']:
        lines.append(f"  {tot['few_face_videos']} video(s) with fewer than "
                     f"{rep['min_faces']} faces (see report.json)")
    if tot.get('not_single_face_videos'):
        lines.append(f"  {tot['not_single_face_videos']} video(s) left out "
                     f"of the annotations: not exactly one face in every "
                     f"sampled frame (see report.json, not_single_face)")
    if tot['missing_videos']:
        lines.append(f"  {tot['missing_videos']} video(s) of the splits "
                     f"missing from the download (see report.json)")
    return '\n'.join(lines)
