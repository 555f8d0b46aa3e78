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

Clip mode (``ConvertSettings(clips=K, clip_len=T)``, ``--clips K --clip-len
T``): step 1 makes K clips of T consecutive frames of one face track per
video, each with one fixed crop, under ``frames/<folder>/<video>/clip<k>/``
(:mod:`.clips`); the annotations hold one entry per clip and the report the
clips that could not be made (``clip_skips``). An output folder holds one
mode (``settings.json``).

This module is the run loop (:func:`convert_videos`, :func:`run_conversion`,
:func:`format_summary`); the parts live beside it and are re-exported here:
:mod:`.tasks` (:class:`VideoTask`, :class:`ConvertSettings`,
:func:`parse_shard`), :mod:`.records` (layout, :func:`load_record`),
:mod:`.process` (:func:`process_video`, the pool workers) and :mod:`.merge`
(:func:`merge_records`).
"""
import json
import multiprocessing as mp
import os
import os.path as osp
import sys
from dataclasses import asdict
from typing import Callable, Optional, Sequence, Tuple

from mmfocus.faces import build_face_detector
from mmfocus.faces.detectors import DEFAULT_DETECTOR
from mmfocus.utils.io import atomic_write_json
from ..shards import DEFAULT_FACES_PER_SHARD, pack_annotation
from .merge import REPORT_FILE, merge_records
from .process import _brief, _init_worker, _run_task, process_video
from .records import RECORD_VERSION, frame_relpath, load_record, record_path
from .tasks import SPLITS, ConvertSettings, VideoTask, parse_shard

__all__ = [
    'SPLITS', 'RECORD_VERSION', 'SETTINGS_FILE', 'REPORT_FILE',
    'DEFAULT_DETECTOR', 'VideoTask', 'ConvertSettings', 'parse_shard',
    'frame_relpath', 'record_path', 'load_record', 'process_video',
    'merge_records', 'convert_videos', 'run_conversion', 'format_summary'
]

SETTINGS_FILE = 'settings.json'
#: Where ``run_conversion(pack_shards=True)`` (``--pack-shards``) packs.
PACKED_DIR = 'packed'


def _mode(settings: dict) -> str:
    if settings.get('clips'):
        return (f'clip mode (--clips {settings["clips"]} --clip-len '
                f'{settings.get("clip_len")})')
    return 'frame mode (no --clips)'


def _check_settings(out_dir: str, settings: dict) -> None:
    path = osp.join(out_dir, SETTINGS_FILE)
    if osp.isfile(path):
        try:
            with open(path) as f:
                old = json.load(f)
        except ValueError as e:
            raise ValueError(f'unreadable {path}: {e}') from None
        if _mode(old) != _mode(settings):
            raise ValueError(
                f'{out_dir} was converted in {_mode(old)}, not in '
                f'{_mode(settings)}: clips and frames (or clips of another '
                f'count or length) cannot share an output folder; use '
                f'another output folder or the same settings')
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
            the report. Defaults to ``max(1, frames // 2)``; in clip mode
            videos with fewer clips, default ``settings.clips``.
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
        min_faces = (settings.clips if settings.clip_mode
                     else max(1, settings.frames // 2))
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
        if brief.get('clip_skips'):
            reasons = ', '.join(f'{n} {r}' for r, n in
                                sorted(brief['clip_skips'].items()))
            log(f'{key}: {brief["clips"]} clip(s) made, skipped: {reasons} '
                f'(see report.json, clip_skips)')
        elif brief['no_face'] and brief['status'] != 'corrupt' and \
                'clips' not in brief:
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
                          initargs=(out_dir, asdict(settings))) as pool:
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
                   face_detector=None,
                   clips: Optional[int] = None,
                   clip_len: Optional[int] = None,
                   pack_shards: bool = False,
                   faces_per_shard: int = DEFAULT_FACES_PER_SHARD,
                   decoder: str = 'opencv',
                   decode_threads: int = 0) -> dict:
    """Convert a dataset's listed videos with the options every
    ``convert_<dataset>`` function takes (its ``**options``).

    Builds the :class:`ConvertSettings`, adds them to ``metainfo``
    (``frames_per_video``, ``margin``, ``size``, ``detector``; in clip mode
    ``clips_per_video`` and ``clip_len`` instead of ``frames_per_video``)
    and runs :func:`convert_videos`.

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
        clips (int, optional): Clip mode: clips per video (``--clips``;
            ``frames`` is then not used). Defaults to None (frame mode).
        clip_len (int, optional): Consecutive frames per clip
            (``--clip-len``). Defaults to None.
        pack_shards (bool): When the annotation files are written, also
            pack each split into ``<out_dir>/packed/`` with
            :func:`~mmfocus.datasets.shards.pack_annotation` (replacing an
            earlier pack, as the annotation files are replaced; frame mode
            only). Defaults to False.
        faces_per_shard (int): Faces per shard at most. Defaults to
            :data:`~mmfocus.datasets.shards.DEFAULT_FACES_PER_SHARD`.
        decoder (str): ``'opencv'`` or ``'pyav'`` (``--decoder``; frame
            mode; the same frames, see
            :func:`~mmfocus.datasets.converters.video.read_frames`).
            Defaults to ``'opencv'``.
        decode_threads (int): PyAV's FFmpeg threads per video
            (``--decode-threads``). Defaults to 0 (FFmpeg's choice).

    Returns:
        dict: The :func:`convert_videos` summary plus ``out_dir`` (absolute)
        and ``missing``; with ``pack_shards`` and the annotations written,
        ``packed``: the :func:`~mmfocus.datasets.shards.pack_annotation`
        summary per split.
    """
    kwargs = dict(frames=frames, margin=margin, size=size, mask_thr=mask_thr,
                  clips=clips, clip_len=clip_len, decoder=decoder,
                  decode_threads=decode_threads)
    if detector is not None:
        kwargs['detector'] = detector
    settings = ConvertSettings(**kwargs)
    if pack_shards and settings.clip_mode:
        raise ValueError('--pack-shards packs frame annotations; clip mode '
                         '(--clips) is not packed')
    if int(faces_per_shard) < 1:
        raise ValueError(f'faces_per_shard must be >= 1, got '
                         f'{faces_per_shard}')
    if settings.clip_mode:
        metainfo = dict(metainfo, clips_per_video=settings.clips,
                        clip_len=settings.clip_len)
    else:
        metainfo = dict(metainfo, frames_per_video=settings.frames)
    metainfo.update(margin=settings.margin, size=settings.size,
                    detector=settings.detector)
    summary = convert_videos(
        tasks, out_dir, settings, metainfo, workers=workers,
        shard=parse_shard(shard), merge=merge,
        real_oversample=real_oversample, min_faces=min_faces,
        missing=missing, progress=progress, detector=face_detector)
    summary.update(out_dir=osp.abspath(out_dir), missing=list(missing))
    if pack_shards and summary['merged']:
        summary['packed'] = {
            split: pack_annotation(
                osp.join(out_dir, f'{split}.json'),
                osp.join(out_dir, PACKED_DIR),
                faces_per_shard=faces_per_shard, overwrite=True,
                progress=progress)
            for split in SPLITS
            if osp.isfile(osp.join(out_dir, f'{split}.json'))}
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
    clip_mode = rep.get('mode') == 'clips'
    if clip_mode:
        reasons = ', '.join(f'{n} {r}' for r, n in
                            tot['clip_skip_reasons'].items() if n)
        lines.append(
            f"  all {tot['videos']} videos: {tot['ok']} ok, "
            f"{tot['truncated']} truncated, {tot['corrupt']} corrupt; "
            f"{tot['clips']} clips of {rep.get('clip_len')} frames, "
            f"{tot['clips_skipped']} skipped"
            f"{f' ({reasons})' if reasons else ''} (see report.json, "
            f"clip_skips), {tot['masks']} with masks")
    else:
        lines.append(
            f"  all {tot['videos']} videos: {tot['ok']} ok, "
            f"{tot['truncated']} truncated, {tot['corrupt']} corrupt; "
            f"{tot['faces']} faces from {tot['frames_sampled']} sampled "
            f"frames, {tot['no_face_frames']} frame(s) without a face, "
            f"{tot['masks']} masks")
    unit = 'clips' if clip_mode else 'frames'
    for split, st in rep['splits'].items():
        left_out = (f" ({st['excluded']} left out)"
                    if st.get('excluded') else '')
        lines.append(f"  {split:5s}: {st['videos']} videos{left_out}, "
                     f"{st[f'real_{unit}']} real + {st[f'fake_{unit}']} "
                     f"fake {unit} -> {st['entries']} entries")
    if tot.get('few_clip_videos'):
        lines.append(f"  {tot['few_clip_videos']} video(s) with fewer than "
                     f"{rep['min_faces']} clips (see report.json, "
                     f"few_clips)")
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
