# Copyright (c) mmfocus contributors.
"""Clip mode (``--clips K --clip-len T``): clips of consecutive frames of one
face track, for video models (``FaceClipDataset``).

Per video: ``K`` clip starts spread evenly over the video
(:func:`~.video.clip_starts`; a fake uses its real twin's frame count, so
its clip ``k`` covers the same frames as the twin's clip ``k``), every
frame of a clip decoded (sequentially) and its faces detected. A clip is
kept only when it is **one face track**: a face in every frame, the first
frame's largest one, then in each frame the face whose box overlaps the
previous frame's box most, with IoU >= :data:`TRACK_IOU`. All frames of a
clip are cropped with **one fixed square**: the mean of the track's face
boxes (the 68-landmark extent when the detector gives the landmarks, as
frame mode crops around, the detector box otherwise), ``margin`` x its
longer side, resized to ``size``; so a spatial patch shows the same face
region through the clip. Mask frames are cropped with the same square.

A clip that cannot be made is a reported skip (``clip_skips`` in the
record and in ``report.json``), never a silent gap; the reasons are
:data:`SKIP_REASONS`.
"""
import os.path as osp
from typing import Callable, Dict, List, Optional

import cv2
import numpy as np

from mmfocus.faces import crop_face
from mmfocus.utils.io import atomic_write_json
from .crops import crop_mask, largest_face
from .records import RECORD_VERSION, _sources, clip_relpath, record_path
from .tasks import ConvertSettings, VideoTask
from .video import (FrameReader, VideoReadError, clip_starts,
                    probe_with_twin)

#: Least IoU of a face box with the previous frame's box to continue a track.
TRACK_IOU = 0.3
#: Why a clip was not made: the video (or its twin, whose frame count sets
#: the starts) has fewer than ``clip_len`` frames (one skip per video); the
#: clip reaches past the end of a fake shorter than its twin; a frame of it
#: cannot be decoded; no face in a frame, or the face jumps (IoU <
#: :data:`TRACK_IOU`).
SKIP_REASONS = ('too_short', 'beyond_end', 'unreadable', 'track_broken')


def box_iou(a, b) -> float:
    """IoU of two ``x1, y1, x2, y2`` boxes."""
    ax1, ay1, ax2, ay2 = [float(v) for v in a[:4]]
    bx1, by1, bx2, by2 = [float(v) for v in b[:4]]
    iw = max(min(ax2, bx2) - max(ax1, bx1), 0.0)
    ih = max(min(ay2, by2) - max(ay1, by1), 0.0)
    inter = iw * ih
    union = (max(ax2 - ax1, 0.0) * max(ay2 - ay1, 0.0) +
             max(bx2 - bx1, 0.0) * max(by2 - by1, 0.0) - inter)
    return inter / union if union > 0 else 0.0


def next_face(faces, prev_box):
    """The face that best continues a track: the largest IoU with the
    previous frame's box (ties: the detector's order).

    Returns:
        tuple: ``(face, iou)``; ``(None, 0.0)`` when ``faces`` is empty.
    """
    best, best_iou = None, -1.0
    for face in faces:
        iou = box_iou(face.bbox, prev_box)
        if iou > best_iou:
            best, best_iou = face, iou
    return best, max(best_iou, 0.0)


def face_extent(face) -> np.ndarray:
    """The box a crop is built around: the 68 landmarks' extent when the
    detector gave them (as :func:`~.crops.crop_frame`), else the box."""
    lmk = face.landmarks
    if lmk is not None and len(lmk) == 68:
        pts = np.asarray(lmk, np.float64).reshape(-1, 2)
        return np.concatenate([pts.min(0), pts.max(0)])
    return np.asarray(face.bbox, np.float64)[:4]


def _rounded(arr, ndigits: int) -> list:
    return np.round(np.asarray(arr, np.float64), ndigits).tolist()


def _finish(out_dir: str, task: VideoTask, rec: dict) -> dict:
    atomic_write_json(record_path(out_dir, task), rec, indent=None)
    return rec


def process_clips(task: VideoTask, out_dir: str, settings: ConvertSettings,
                  detector, save: Callable) -> dict:
    """Convert one video to clips and write its record (last, atomically).

    Args:
        task (VideoTask): The video.
        out_dir (str): Output folder of the dataset.
        settings (ConvertSettings): With ``clips`` and ``clip_len``.
        detector (BaseFaceDetector): Face detector.
        save (callable): ``save(path, img)``, writes a crop atomically.

    Returns:
        dict: The record: the frame-mode fields (``status``, ``error``,
        ``num_frames``, ``indices`` (every frame of the clips),
        ``face_counts``, ``no_face``, ``unreadable``, ``beyond_end``,
        ``mask_missing``, ``mask_error``; ``frames`` empty) plus ``mode``
        (``'clips'``), ``clips_wanted``, ``clip_len``, ``starts``, ``clips``
        (the clips made: ``clip_idx``, ``frame_indices``, ``img_paths``,
        ``mask_paths``, ``box``, ``crop_affine``, ``boxes``, ``min_iou``)
        and ``clip_skips`` (``clip_idx``, ``start``, ``reason``,
        ``frame_idx``, ``detail``).
    """
    n_clips, clip_len = settings.clips, settings.clip_len
    rec = dict(version=RECORD_VERSION, key=task.key, label=task.label,
               mode='clips', clips_wanted=n_clips, clip_len=clip_len,
               status='ok', error=None, num_frames=None, starts=[],
               indices=[], frames=[], no_face=[], face_counts=[],
               unreadable=[], beyond_end=[], mask_missing=[],
               mask_error=None, clips=[], clip_skips=[],
               sources=_sources(task))
    try:
        num_frames, index_frames, twin_error = probe_with_twin(
            task.path, task.index_path)
        rec['num_frames'] = num_frames
        if twin_error is not None:
            rec['error'] = (f'twin video unreadable, clips placed on '
                            f'own frames ({twin_error})')
        shortest = min(num_frames, index_frames)
        if shortest < clip_len:
            rec['clip_skips'].append(dict(
                clip_idx=None, start=None, reason='too_short',
                frame_idx=None, frames=shortest,
                detail=f'{shortest} frame(s) < clip length {clip_len}'))
            return _finish(out_dir, task, rec)
        rec['starts'] = starts = clip_starts(index_frames, n_clips, clip_len)
        rec['indices'] = sorted({i for s in starts
                                 for i in range(s, s + clip_len)})
        reader = FrameReader(task.path)
    except (VideoReadError, cv2.error) as e:
        rec.update(status='corrupt', error=str(e))
        return _finish(out_dir, task, rec)
    masks = None
    if task.mask_path:
        try:
            masks = FrameReader(task.mask_path)
        except (VideoReadError, cv2.error) as e:
            rec['mask_error'] = str(e)
    tried, decoded = set(), set()
    detections: Dict[int, list] = {}

    def faces_of(idx, img):
        if idx not in detections:
            detections[idx] = list(detector.detect(img))
            rec['face_counts'].append([idx, len(detections[idx])])
            if not detections[idx]:
                rec['no_face'].append(idx)
        return detections[idx]

    def skip(k, start, reason, idx, detail):
        rec['clip_skips'].append(dict(clip_idx=k, start=start,
                                      reason=reason, frame_idx=idx,
                                      detail=detail))

    try:
        for k, start in enumerate(starts):
            ids = list(range(start, start + clip_len))
            reader.release_before(start)
            if masks is not None:
                masks.release_before(start)
            for i in [i for i in detections if i < start]:
                del detections[i]
            beyond = [i for i in ids if i >= num_frames]
            if beyond:
                rec['beyond_end'] += [i for i in beyond
                                      if i not in rec['beyond_end']]
                skip(k, start, 'beyond_end', beyond[0],
                     f'the video has {num_frames} frames (its twin more)')
                continue
            track, ious = _track(ids, reader, faces_of, tried, decoded,
                                 lambda *a: skip(k, start, *a))
            if track is None:
                continue
            rec['clips'].append(_write_clip(
                task, out_dir, settings, k, track, ious, masks, rec, save))
    except cv2.error as e:  # a decoder failure mid-stream
        rec['error'] = f'{rec["error"] + "; " if rec["error"] else ""}{e}'
    finally:
        reader.close()
        if masks is not None:
            masks.close()
    rec['unreadable'] = sorted(tried - decoded)
    rec['no_face'].sort()
    rec['face_counts'].sort()
    if tried and not decoded:
        rec.update(status='corrupt', error=f'no clip frame could be '
                   f'decoded: {task.path}')
    elif rec['unreadable']:
        rec['status'] = 'truncated'
    return _finish(out_dir, task, rec)


def _track(ids, reader, faces_of, tried, decoded, skip):
    """Follow one face through the frames ``ids``: ``(track, ious)`` with
    ``track`` a list of ``(idx, frame, face)``, or ``(None, None)`` after
    reporting the skip."""
    track, ious, prev = [], [], None
    for idx in ids:
        tried.add(idx)
        img = reader.read(idx)
        if img is None:
            skip('unreadable', idx, 'frame cannot be decoded')
            return None, None
        decoded.add(idx)
        faces = faces_of(idx, img)
        if prev is None:
            face = largest_face(faces)
        else:
            face, iou = next_face(faces, prev)
        if face is None:
            skip('track_broken', idx, 'no face in the frame')
            return None, None
        if prev is not None:
            if iou < TRACK_IOU:
                skip('track_broken', idx, f'the face jumped: IoU '
                     f'{iou:.2f} < {TRACK_IOU} with the previous frame')
                return None, None
            ious.append(iou)
        track.append((idx, img, face))
        prev = face.bbox
    return track, ious


def _write_clip(task, out_dir, settings, k, track, ious, masks, rec, save):
    box = np.mean([face_extent(face) for _, _, face in track], axis=0)
    paths, affine = [], None
    for idx, img, _ in track:
        crop, _, affine = crop_face(img, bbox=box, margin=settings.margin,
                                    size=settings.size)
        paths.append(clip_relpath(task, k, idx))
        save(osp.join(out_dir, paths[-1]), crop)
    mask_paths: Optional[List[str]] = None
    if masks is not None:
        frames = [(idx, img, masks.read(idx)) for idx, img, _ in track]
        missing = [idx for idx, _, m in frames if m is None]
        for idx in missing:
            if idx not in rec['mask_missing']:
                rec['mask_missing'].append(idx)
        if not missing:
            mask_paths = []
            for idx, img, m in frames:
                crop = crop_mask(m, affine, settings.size, img.shape[:2],
                                 settings.mask_thr)
                mask_paths.append(clip_relpath(task, k, idx, 'masks'))
                save(osp.join(out_dir, mask_paths[-1]), crop)
    return dict(clip_idx=k, frame_indices=[idx for idx, _, _ in track],
                img_paths=paths, mask_paths=mask_paths,
                box=_rounded(box, 1), crop_affine=_rounded(affine, 6),
                boxes=[_rounded(face.bbox, 1) for _, _, face in track],
                min_iou=round(min(ious), 3) if ious else None)


# ------------------------------------------------------------ merging
def clip_report_keys() -> dict:
    """The ``report.json`` keys of clip mode (absent in frame mode)."""
    return dict(clip_skips={}, too_short={}, few_clips={})


def clip_totals() -> dict:
    """The ``report.json`` summary counters of clip mode."""
    return dict(clips=0, clips_skipped=0, unpaired_fake_clips=0,
                clip_skip_reasons={r: 0 for r in SKIP_REASONS})


def clip_entries(task: VideoTask, rec: dict, twin: Optional[dict],
                 report: dict, totals: dict, min_clips: int) -> List[dict]:
    """Annotation entries (one per clip) of a clip-mode record; adds its
    skips, pairing and mask problems to ``report`` / ``totals``.

    Args:
        task (VideoTask): The video.
        rec (dict): Its record.
        twin (dict, optional): The record of its real twin (``task.pair``).
        report (dict): The report being built (with
            :func:`clip_report_keys`).
        totals (dict): Its summary (with :func:`clip_totals`).
        min_clips (int): Videos with fewer clips go under ``few_clips``.

    Returns:
        list[dict]: One entry per clip.
    """
    key = task.key
    if rec['clip_skips']:
        report['clip_skips'][key] = rec['clip_skips']
    for s in rec['clip_skips']:
        totals['clip_skip_reasons'][s['reason']] += 1
        if s['reason'] == 'too_short':
            report['too_short'][key] = s['frames']
    totals['clips'] += len(rec['clips'])
    totals['clips_skipped'] += len(rec['clip_skips'])
    if rec['status'] != 'corrupt' and len(rec['clips']) < min_clips:
        report['few_clips'][key] = dict(clips=len(rec['clips']),
                                        wanted=rec['clips_wanted'])
    twin_clips = {c['clip_idx']: c for c in (twin or {}).get('clips', [])}
    entries = []
    for clip in rec['clips']:
        pair_paths = None
        if task.pair:
            other = twin_clips.get(clip['clip_idx'])
            if other and other['frame_indices'] == clip['frame_indices']:
                pair_paths = other['img_paths']
            else:
                totals['unpaired_fake_clips'] += 1
                report['unpaired'].setdefault(key, []).append(
                    clip['clip_idx'])
        totals['faces'] += len(clip['img_paths'])
        totals['masks'] += clip['mask_paths'] is not None
        entries.append(dict(
            img_path=clip['img_paths'][0], gt_label=task.label,
            video_id=key, method=task.method, clip_idx=clip['clip_idx'],
            frame_indices=clip['frame_indices'],
            clip_paths=clip['img_paths'], clip_mask_paths=clip['mask_paths'],
            clip_pair_paths=pair_paths, crop_affine=clip['crop_affine'],
            **task.extra))
    return entries
