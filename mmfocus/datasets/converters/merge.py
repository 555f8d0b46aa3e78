# Copyright (c) mmfocus contributors.
"""Finished records -> ``{train,val,test}.json`` (mmengine BaseDataset
annotations) and ``report.json``."""
import os.path as osp
from typing import Sequence

from mmfocus.utils.io import atomic_write, atomic_write_json
from ..annotation import dump_annotation
from .clips import clip_entries, clip_report_keys, clip_totals
from .records import load_record
from .tasks import SPLITS, VideoTask

REPORT_FILE = 'report.json'


def merge_records(tasks: Sequence[VideoTask], out_dir: str, metainfo: dict,
                  real_oversample: int = 1, min_faces: int = 1,
                  missing: Sequence[str] = ()) -> dict:
    """Write ``{train,val,test}.json`` and ``report.json`` from the records.

    A split file is written when at least one task is in that split (it may
    hold no entry, e.g. when all its videos are corrupt). Clip-mode records
    give one entry per clip (:func:`~.clips.clip_entries`) and the clip
    keys of the report (``clip_skips``, ``too_short``, ``few_clips``).

    Args:
        tasks (Sequence[VideoTask]): Every video of the dataset (all
            shards); each must have a finished record.
        out_dir (str): Output folder.
        metainfo (dict): Base ``metainfo`` of the annotation files.
        real_oversample (int): Each real entry of the train split is
            repeated this many times (class balance). Defaults to 1.
        min_faces (int): Videos with fewer faces (clip mode: clips) are
            listed in the report. Defaults to 1.
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
    modes = {rec.get('mode', 'frames') for rec in records.values()}
    if len(modes) > 1:
        raise RuntimeError(f'{out_dir}: the records mix frame mode and clip '
                           f'mode (--clips); convert into another folder')
    clip_mode = modes == {'clips'}
    unit = 'clips' if clip_mode else 'frames'
    real_frames = {
        t.key: {fr['frame_idx']: fr['img_path']
                for fr in records[t.key]['frames']}
        for t in tasks if t.label == 0
    }
    present = [s for s in SPLITS if any(t.split == s for t in tasks)]
    data = {s: [] for s in present}
    stats = {s: {'videos': 0, f'real_{unit}': 0, f'fake_{unit}': 0,
                 'entries': 0, 'excluded': 0} for s in present}
    report = dict(
        corrupt={}, truncated={}, beyond_end={}, few_faces={}, no_face={},
        mask_problems={}, unpaired={}, not_single_face={},
        missing=sorted(missing))
    totals = dict(videos=len(tasks), ok=0, truncated=0, corrupt=0,
                  frames_sampled=0, faces=0, no_face_frames=0,
                  unreadable_frames=0, beyond_end_frames=0, masks=0,
                  unpaired_fake_frames=0)
    if clip_mode:
        report.update(clip_report_keys())
        totals.update(clip_totals())
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
        if not clip_mode and rec['status'] != 'corrupt' and \
                len(rec['frames']) < min_faces:
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
        if clip_mode:
            for entry in clip_entries(task, rec, records.get(task.pair),
                                      report, totals, min_faces):
                data[task.split].extend([entry] * repeat)
                st['real_clips' if task.label == 0 else 'fake_clips'] += 1
                st['entries'] += repeat
            continue
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
    if clip_mode:
        totals['few_clip_videos'] = len(report['few_clips'])
        full.update(mode='clips', clip_len=metainfo.get('clip_len'),
                    clips_per_video=metainfo.get('clips_per_video'))
    atomic_write_json(osp.join(out_dir, REPORT_FILE), full)
    return full
