# Copyright (c) mmfocus contributors.
"""One video -> sampled frames, detected faces, crops (and mask crops) and
its record; and the worker-process side of a parallel conversion."""
import os.path as osp
import shutil
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from mmfocus.faces import build_face_detector
from mmfocus.utils import register_all_modules
from mmfocus.utils.io import atomic_save_image, atomic_write_json
from .clips import process_clips
from .crops import crop_frame, crop_mask, largest_face
from .records import RECORD_VERSION, _sources, frame_relpath, record_path
from .tasks import ConvertSettings, VideoTask
from .video import (VideoReadError, probe_with_twin, read_frames,
                    sample_indices)


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

    In clip mode (``settings.clips``) the video gives clips of consecutive
    frames instead (:func:`~.clips.process_clips`).

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
    if settings.clip_mode:
        return process_clips(task, out_dir, settings, detector,
                             save=lambda *a: atomic_save_image(*a))
    rec = dict(version=RECORD_VERSION, key=task.key, label=task.label,
               status='ok', error=None, num_frames=None, indices=[],
               frames=[], no_face=[], face_counts=[], unreadable=[],
               beyond_end=[], mask_missing=[], mask_error=None,
               sources=sources)
    try:
        num_frames, index_frames, twin_error = probe_with_twin(
            task.path, task.index_path)
        rec['num_frames'] = num_frames
        if twin_error is not None:
            rec['error'] = (f'twin video unreadable, sampled own frames '
                            f'({twin_error})')
        indices = sample_indices(index_frames, settings.frames)
        rec['indices'] = indices
        # a fake shorter than its twin: those indices do not exist in it
        rec['beyond_end'] = [i for i in indices if i >= num_frames]
        frames, unreadable = read_frames(
            task.path, [i for i in indices if i < num_frames],
            decoder=settings.decoder, threads=settings.decode_threads)
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
            masks, _ = read_frames(task.mask_path, sorted(frames),
                                   decoder=settings.decoder,
                                   threads=settings.decode_threads)
        except (VideoReadError, cv2.error) as e:
            rec['mask_error'] = str(e)
    order = sorted(frames)
    # one call for all sampled frames: a batching backend (RetinaFace on
    # the GPU) runs them as one batch
    found = dict(zip(order, detector.detect_batch([frames[i]
                                                    for i in order])))
    for idx in order:
        img = frames[idx]
        faces = found[idx]
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
    brief = dict(status=rec['status'], error=rec['error'],
                 faces=len(rec['frames']), no_face=len(rec['no_face']),
                 unreadable=len(rec['unreadable']))
    if rec.get('mode') == 'clips':
        reasons: Dict[str, int] = {}
        for s in rec['clip_skips']:
            reasons[s['reason']] = reasons.get(s['reason'], 0) + 1
        brief.update(clips=len(rec['clips']), clip_skips=reasons)
    return brief
