# Copyright (c) mmfocus contributors.
"""FocusInferencer: faces in photos, folders and videos -> fake scores and
manipulation maps, projected back onto the full image.

Example:
    >>> from mmfocus.apis import FocusInferencer
    >>> inferencer = FocusInferencer(
    ...     'configs/focus/vit-demo_demo-sbi.py',
    ...     'checkpoints/focus_vit-demo_demo-sbi.pth')
    >>> [res] = inferencer('demo/faces/photos/2008_001009.jpg')
    >>> [(f['score'], f['label']) for f in res['faces']]
"""
import datetime
import json
import os
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmfocus.faces import (DEFAULT_DETECTOR, build_face_detector, crop_face,
                           detect_multiscale, implausible_face, square_box)
from mmfocus.utils.io import atomic_save_image, atomic_write_json
from mmfocus.visualization.overlay import colorize_map
from .inference import (DEFAULT_MAX_IMAGE_SIDE, ImageTooLargeError,
                        inference_model, init_model, is_grey_image,
                        read_image, to_bgr_uint8)

VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv')
# DEFAULT_DETECTOR (imported above) is mmfocus.faces.DEFAULT_DETECTOR, the
# dataset converters' detector: HOG on a copy downscaled to 640 px, 68
# landmarks fitted at full resolution, the same score threshold.
#: How an image's score and label come from its faces.
IMAGE_RULE = 'max over faces'
GREY_WARNING = ('grey image: the model was trained on colour faces, its '
                'scores on grey input are not calibrated (see the inference '
                'guide)')
RESULTS_FILE = 'results.json'
# One JSON line per input, appended (and flushed) as each one is finished,
# so that a crash or a full disk loses nothing already computed.
RESULTS_LINES_FILE = 'results.jsonl'
FAKE_COLOR = (0, 0, 255)  # BGR red
REAL_COLOR = (0, 200, 0)  # BGR green

InputType = Union[str, np.ndarray]
# What a bad input may raise while it is read, detected, cropped or its
# outputs written; reported in its result, never raised.
_BAD_INPUT_ERRORS = (OSError, ValueError, TypeError, MemoryError, cv2.error)


def _one_line(e: BaseException) -> str:
    msg = str(e).strip()
    return msg.splitlines()[0] if msg else type(e).__name__


class ResultsNotSavedError(OSError):
    """``results.json`` could not be written (e.g. a full disk); the
    computed ``results`` are attached, and ``results.jsonl`` holds every
    line that could be written (``lines_written``)."""

    def __init__(self, errno_: Optional[int], cause: str, filename: str,
                 results: List[dict], lines_written: int) -> None:
        super().__init__(errno_, cause, filename)
        self.results = results
        self.lines_written = lines_written


def project_map(m: np.ndarray, affine: np.ndarray,
                img_shape: Tuple[int, int]
                ) -> Tuple[Optional[Tuple[slice, slice]], np.ndarray,
                           np.ndarray]:
    """Project a crop-space map back onto the full image.

    The inverse of the crop: ``cv2.warpAffine`` with ``WARP_INVERSE_MAP``
    and the image -> crop ``affine`` of :func:`mmfocus.faces.crop_face`,
    evaluated only inside the crop square's bounding window (so a face on a
    huge image costs no full-size buffer).

    Args:
        m (np.ndarray): ``(S, S)`` float map of a ``S x S`` crop.
        affine (np.ndarray): 2x3 image -> crop affine.
        img_shape (tuple): ``(H, W)`` of the full image.

    Returns:
        tuple: ``(rows, cols)`` slices of the window (None if the square
        lies outside the image), the map in that window and the coverage
        (1 inside the crop square, 0 outside, soft at its edge).
    """
    h, w = img_shape[:2]
    A = np.asarray(affine, dtype=np.float64)
    inv = cv2.invertAffineTransform(A)
    s = m.shape[0]
    corners = np.array([[-.5, -.5], [s - .5, -.5], [-.5, s - .5],
                        [s - .5, s - .5]])
    pts = corners @ inv[:, :2].T + inv[:, 2]
    x1 = max(int(np.floor(pts[:, 0].min())) - 1, 0)
    y1 = max(int(np.floor(pts[:, 1].min())) - 1, 0)
    x2 = min(int(np.ceil(pts[:, 0].max())) + 2, w)
    y2 = min(int(np.ceil(pts[:, 1].max())) + 2, h)
    if x2 <= x1 or y2 <= y1:
        return None, np.zeros((0, 0), np.float32), np.zeros((0, 0),
                                                            np.float32)
    win = A.copy()
    win[:, 2] += A[:, :2] @ np.array([x1, y1], dtype=np.float64)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    size = (x2 - x1, y2 - y1)
    proj = cv2.warpAffine(m.astype(np.float32), win, size, flags=flags,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    cover = cv2.warpAffine(np.ones(m.shape[:2], np.float32), win, size,
                           flags=flags, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=0)
    return (slice(y1, y2), slice(x1, x2)), proj, cover


def draw_faces(img: np.ndarray, faces: Sequence[dict],
               alpha: float = 0.5, map_key: str = 'map') -> np.ndarray:
    """The overlay image: each face's map as a heat-map over the face (in
    full-image coordinates), its box and its score.

    Args:
        img (np.ndarray): BGR uint8 full image.
        faces (Sequence[dict]): Face results of :class:`FocusInferencer`
            (``box``, ``score``, ``label``, ``affine`` and ``map_key``).
        alpha (float): Heat-map opacity. Defaults to 0.5.
        map_key (str): ``'map'`` or ``'map_fake'``. Defaults to ``'map'``.

    Returns:
        np.ndarray: A new BGR uint8 image; ``img`` is not modified.
    """
    vis = img.copy()
    for f in faces:
        if f.get(map_key) is None:
            continue
        win, proj, cover = project_map(f[map_key], np.asarray(f['affine']),
                                       img.shape[:2])
        if win is None:
            continue
        color = colorize_map(proj).astype(np.float32)
        a = (alpha * cover)[..., None]
        roi = vis[win].astype(np.float32)
        vis[win] = np.clip(roi * (1 - a) + color * a + .5, 0,
                           255).astype(np.uint8)
    h, w = img.shape[:2]
    thick = max(1, round(max(h, w) / 400))
    font = max(0.4, max(h, w) / 1000)
    for f in faces:
        x1, y1, x2, y2 = [int(round(v)) for v in f['box']]
        col = FAKE_COLOR if f['label'] == 'fake' else REAL_COLOR
        cv2.rectangle(vis, (x1, y1), (x2 - 1, y2 - 1), col, thick)
        text = f"{f['label']} {f['score']:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX,
                                         font, thick)
        ty = y1 - base - 1 if y1 - th - base - 1 >= 0 else y2 + th + 1
        tx = min(max(x1, 0), max(w - tw, 0))
        cv2.putText(vis, text, (tx, ty), cv2.FONT_HERSHEY_SIMPLEX,
                    font, col, thick, cv2.LINE_AA)
    return vis


class _Source:
    """One input: an image file, an array, a video file, or a bad input."""

    def __init__(self, kind: str, name: str, path: Optional[str] = None,
                 array: Optional[np.ndarray] = None,
                 error: Optional[str] = None) -> None:
        self.kind, self.name, self.path = kind, name, path
        self.array, self.error = array, error


class _Unit:
    """An image or a video frame waiting for the model: ``finish`` is
    called with it once its faces are scored, ``fail`` with the message
    if that fails."""

    def __init__(self, img: np.ndarray, faces: List[dict],
                 crops: List[np.ndarray], finish: Callable[['_Unit'], None],
                 fail: Callable[[str], None]) -> None:
        self.img, self.faces, self.crops = img, faces, crops
        self.finish, self.fail = finish, fail
        self.owner: Optional[int] = None  # index of its result


class FocusInferencer:
    """Detect, align and score every face of images, folders and videos.

    An mmengine-style inferencer (build once, call on inputs); it does not
    subclass ``mmengine.infer.BaseInferencer`` because one input fans out
    to many faces (and a video to many frames) and weights are loaded with
    mmfocus' strict, local-only checkpoint loader.

    Per face: detect (``detector``, default dlib HOG + 68 landmarks), crop
    a square of ``margin`` x the 68-landmark extent (the detector box when
    a backend gives fewer landmarks) at ``crop_size`` px with
    :func:`mmfocus.faces.crop_face`, run the model (batched across faces,
    images and frames), and return the fake probability, the manipulation
    map and the Eq. 9 fake-evidence map at crop size, plus the crop's
    affine so the map can be projected back onto the image
    (:func:`project_map`, used for the overlays).

    Implausible detections (``filter_faces``, see
    :func:`mmfocus.faces.implausible_face`: a score below the detector's
    threshold, a tiny or elongated box, landmarks inconsistent with a face,
    e.g. the mouth not below the eyes) are not scored; they are listed in
    ``rejected_faces`` with the reason. An image is as fake as its most
    fake face (:data:`IMAGE_RULE`, max over faces). When the whole-image
    search finds no face on an image larger than the detector's working
    side (640 px by default), it is searched again on tiles
    (:func:`mmfocus.faces.detect_multiscale`; images only, not video
    frames).

    Bad inputs (missing, non-image, zero-byte or corrupt files and videos,
    images without a face, images above ``max_image_side``) each give a
    result with an ``error`` message naming the file; the rest of the
    inputs are processed. Grey, RGBA and 16-bit images are converted.
    Grey input (one channel, or three equal channels:
    :func:`~mmfocus.apis.inference.is_grey_image`) is scored as it is, the
    same way in both forms, and flagged: ``grey: true`` on the result and
    on each face whose crop is grey, and a warning in ``warnings``.

    Args:
        model (str): Config file path.
        weights (str): Checkpoint file path (local).
        device (str): Defaults to ``'cpu'``.
        detector (dict | BaseFaceDetector, optional): Face detector or its
            config. Defaults to :data:`DEFAULT_DETECTOR` (dlib).
        margin (float): Crop side relative to the landmark extent, as in
            training. Defaults to 1.3.
        batch_size (int): Faces per forward pass. Defaults to 16.
        crop_size (int): Side of the face crops (and of the returned
            maps); the model's test pipeline then resizes them to its
            input size. Defaults to 224 (the size mmfocus' data converters
            store crops at).
        threshold (float): ``label`` is ``'fake'`` when the fake
            probability is at least this. Defaults to 0.5.
        max_image_side (int, optional): Images (and video frames) with a
            longer side above this are refused with an error entry before
            they are decoded. None for no limit. Defaults to 8000.
        cfg_options (dict, optional): Config overrides (dotted keys).
        vis_map (str): The map drawn on the overlays: ``'map'`` (the
            manipulation map of the predicted class, Eq. 4-5) or
            ``'map_fake'`` (the Eq. 9 fake-evidence map). Defaults to
            ``'map'``.
        show_progress (bool): tqdm progress bars on stderr.
            Defaults to True.
        filter_faces (bool): Leave implausible detections unscored (listed
            in ``rejected_faces``). Defaults to True.
        min_det_score (float, optional): Detections scoring below this are
            implausible. Defaults to None: the detector's own
            ``score_thr`` (that of the dataset converters for the default
            detector).
        multiscale (bool): Search tiles of large images in which the
            whole-image search found no face. Defaults to True.
    """

    def __init__(self,
                 model: str,
                 weights: Optional[str],
                 device: str = 'cpu',
                 detector: Optional[Union[dict, Any]] = None,
                 margin: float = 1.3,
                 batch_size: int = 16,
                 crop_size: int = 224,
                 threshold: float = 0.5,
                 max_image_side: Optional[int] = DEFAULT_MAX_IMAGE_SIDE,
                 cfg_options: Optional[dict] = None,
                 vis_map: str = 'map',
                 show_progress: bool = True,
                 filter_faces: bool = True,
                 min_det_score: Optional[float] = None,
                 multiscale: bool = True) -> None:
        if margin <= 0:
            raise ValueError(f'margin must be positive, got {margin}')
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if vis_map not in ('map', 'map_fake'):
            raise ValueError(f"vis_map must be 'map' or 'map_fake', got "
                             f'{vis_map!r}')
        if crop_size < 8:
            raise ValueError(f'crop_size must be >= 8, got {crop_size}')
        self.config = model
        self.weights = weights
        self.model = init_model(model, weights, device=device,
                                cfg_options=cfg_options)
        self.detector = build_face_detector(
            DEFAULT_DETECTOR if detector is None else detector)
        self.margin = float(margin)
        self.batch_size = int(batch_size)
        self.crop_size = int(crop_size)
        self.threshold = float(threshold)
        self.max_image_side = max_image_side
        self.vis_map = vis_map
        self.show_progress = show_progress
        self.filter_faces = bool(filter_faces)
        self.min_det_score = (getattr(self.detector, 'score_thr', None)
                              if min_det_score is None else
                              float(min_det_score))
        self.multiscale = bool(multiscale)
        self._pending: List[_Unit] = []
        self._pending_faces = 0

    # ------------------------------------------------------------ inputs
    def _expand(self, inputs) -> List[_Source]:
        if isinstance(inputs, (str, np.ndarray, os.PathLike)):
            inputs = [inputs]
        elif not isinstance(inputs, (list, tuple)):
            return [_Source('error', repr(inputs)[:80], error=(
                f'unsupported input type {type(inputs).__name__}: expected '
                'a path, an array or a list of them'))]
        sources: List[_Source] = []
        for i, item in enumerate(inputs):
            if isinstance(item, os.PathLike):
                item = os.fspath(item)
            if isinstance(item, np.ndarray):
                sources.append(_Source('image', f'array_{i}', array=item))
            elif not isinstance(item, str):
                sources.append(_Source('error', f'input_{i}', error=(
                    f'input {i}: unsupported type {type(item).__name__} '
                    '(expected a path or an array)')))
            elif osp.isdir(item):
                files = sorted(
                    osp.join(item, f) for f in os.listdir(item)
                    if not f.startswith('.')
                    and osp.isfile(osp.join(item, f)))
                if not files:
                    sources.append(_Source('error', item, path=item,
                                           error=f'empty folder: {item}'))
                sources.extend(self._file_source(f) for f in files)
            elif not osp.exists(item):
                sources.append(_Source('error', item, path=item,
                                       error=f'input not found: {item}'))
            else:
                sources.append(self._file_source(item))
        return sources

    @staticmethod
    def _file_source(path: str) -> _Source:
        kind = 'video' if path.lower().endswith(VIDEO_EXTS) else 'image'
        return _Source(kind, path, path=path)

    # ------------------------------------------------------------ faces
    def _detect_and_crop(self, img: np.ndarray, multiscale: bool = False
                         ) -> Tuple[List[dict], List[np.ndarray], dict]:
        """Faces (plausible ones, for the model), their crops, and
        ``dict(rejected=[...], tile=None | int)``."""
        if multiscale:
            dets, tile = detect_multiscale(self.detector, img)
        else:
            dets, tile = self.detector.detect(img), None
        faces, crops, rejected = [], [], []
        for det in dets:
            lmk = det.landmarks
            box = [round(float(v), 2) for v in det.bbox]
            lmk_list = None if lmk is None else np.round(
                np.asarray(lmk, np.float64), 2).tolist()
            reason = implausible_face(
                det, img.shape, min_score=self.min_det_score) \
                if self.filter_faces else None
            if reason is not None:
                rejected.append(dict(box=box, det_score=float(det.score),
                                     landmarks=lmk_list, reason=reason))
                continue
            if lmk is not None and len(lmk) >= 68:
                # as the training crops: the 68-point landmark extent
                crop, _, affine = crop_face(img, lmk, margin=self.margin,
                                            size=self.crop_size)
                x0, y0, side = square_box(lmk, None, self.margin)
            else:  # no or 5-point landmarks: the detector box
                crop, _, affine = crop_face(img, bbox=det.bbox,
                                            margin=self.margin,
                                            size=self.crop_size)
                x0, y0, side = square_box(None, det.bbox, self.margin)
            faces.append(dict(
                box=box,
                det_score=float(det.score),
                landmarks=lmk_list,
                crop_box=[float(x0), float(y0), float(side)],
                affine=affine.tolist(),
                grey=is_grey_image(crop)))
            crops.append(crop)
        return faces, crops, dict(rejected=rejected, tile=tile)

    def _enqueue(self, unit: _Unit) -> None:
        unit.owner = getattr(self, '_current', None)
        self._pending.append(unit)
        self._pending_faces += len(unit.crops)
        if self._pending_faces >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        units, self._pending, self._pending_faces = self._pending, [], 0
        crops = [c for u in units for c in u.crops]
        try:
            preds = inference_model(self.model, crops,
                                    batch_size=self.batch_size) \
                if crops else []
        except _BAD_INPUT_ERRORS as e:
            for u in units:
                u.fail(f'model inference failed: {_one_line(e)}')
            return
        k = 0
        S = self.crop_size
        for u in units:
            for f in u.faces:
                ds = preds[k]
                k += 1
                score = float(ds.pred_score[1])
                f['score'] = score
                f['label'] = 'fake' if score >= self.threshold else 'real'
                for key, field in (('map', 'pred_map'),
                                   ('map_fake', 'pred_map_fake')):
                    m = ds.get(field).float().numpy()
                    if m.shape != (S, S):
                        m = cv2.resize(m, (S, S),
                                       interpolation=cv2.INTER_LINEAR)
                    f[key] = np.clip(m, 0, 1).astype(np.float32)
            try:
                u.finish(u)
            except _BAD_INPUT_ERRORS as e:
                u.fail(_one_line(e))

    # ------------------------------------------------------------ outputs
    def _unique(self, name: str, ext: str, suffix: str = '') -> str:
        """A file name under the vis dir, unique in this run (and, unless
        overwriting, on disk): ``<stem><suffix>[_<n>]<ext>``."""
        stem = ''.join(c if c.isalnum() or c in '-_.' else '_'
                       for c in osp.splitext(osp.basename(name))[0]) or 'x'
        stem += suffix
        cand, n = f'{stem}{ext}', 1
        while cand in self._used or (
                not self._overwrite
                and osp.exists(osp.join(self._vis_dir, cand))):
            cand, n = f'{stem}_{n}{ext}', n + 1
        self._used.add(cand)
        return cand

    def _rel(self, path: str) -> str:
        return osp.relpath(path, self._out_dir).replace(os.sep, '/')

    # ------------------------------------------------------------ images
    def _run_image(self, src: _Source, res: dict, return_vis: bool,
                   return_maps: bool) -> None:
        if src.array is not None:
            arr = np.asarray(src.array)
            if self.max_image_side and arr.ndim >= 2 and \
                    max(arr.shape[:2]) > self.max_image_side:
                raise ImageTooLargeError(
                    f'image too large: {src.name} is {arr.shape[1]} x '
                    f'{arr.shape[0]} px, the limit is {self.max_image_side} '
                    'px per side (raise max_image_side)')
            img = to_bgr_uint8(arr, name=src.name)
            grey = is_grey_image(arr)
        else:
            img = read_image(src.path, max_side=self.max_image_side)
            grey = is_grey_image(img)
        res['height'], res['width'] = map(int, img.shape[:2])
        res['grey'] = grey
        if grey:
            res.setdefault('warnings', []).append(GREY_WARNING)
        faces, crops, info = self._detect_and_crop(
            img, multiscale=self.multiscale)
        res['rejected_faces'] = info['rejected']
        if info['tile']:
            res['search'] = (f'no face on the whole image; found on '
                             f'{info["tile"]} px tiles')
        if not faces:
            res['faces'] = []
            rej = info['rejected']
            res['error'] = f'no face found in {src.name}' if not rej else (
                f'no plausible face in {src.name} ({len(rej)} detection(s) '
                f'rejected: ' + '; '.join(sorted({r['reason'] for r in rej})
                                          ) + ')')
            if return_vis:
                res['vis'] = img
            return

        def finish(u: _Unit) -> None:
            res['faces'] = u.faces
            res['score'] = max(f['score'] for f in u.faces)
            res['label'] = ('fake' if res['score'] >= self.threshold
                            else 'real')
            if return_vis or self._out_dir:
                vis = draw_faces(u.img, u.faces, map_key=self.vis_map)
                if self._out_dir:
                    path = osp.join(self._vis_dir,
                                    self._unique(src.name, '.jpg'))
                    atomic_save_image(path, vis, overwrite=self._overwrite)
                    res['vis_path'] = self._rel(path)
                if return_vis:
                    res['vis'] = vis
            if not return_maps:
                for f in u.faces:
                    f.pop('map', None)
                    f.pop('map_fake', None)

        def fail(msg: str) -> None:
            res['error'] = msg if src.name in msg else f'{src.name}: {msg}'

        self._enqueue(_Unit(img, faces, crops, finish, fail))

    # ------------------------------------------------------------ videos
    def _run_video(self, src: _Source, res: dict, video_stride: int,
                   max_frames: Optional[int], return_maps: bool) -> None:
        from tqdm import tqdm
        path = src.path
        if osp.getsize(path) == 0:
            raise ValueError(f'empty (zero-byte) video file: {path}')
        cap = cv2.VideoCapture(path)
        state = dict(writer=None, tmp=None, thumbs=[], keep_every=1,
                     processed=0, written=0, error=None)
        try:
            if not cap.isOpened():
                raise ValueError(f'cannot open video (corrupt or not a '
                                 f'video): {path}')
            fps = cap.get(cv2.CAP_PROP_FPS)
            fps = float(fps) if fps and np.isfinite(fps) and fps > 0 \
                else 25.0
            total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            res.update(fps=fps, frames=[], num_frames=0,
                       num_frames_without_face=0)
            est = (total + video_stride - 1) // video_stride if total > 0 \
                else None
            if max_frames is not None and est is not None:
                est = min(est, max_frames)
            pbar = tqdm(total=est, desc=osp.basename(path), unit='frame',
                        leave=False, disable=not self.show_progress)
            idx = -1
            try:
                while max_frames is None or state['processed'] < max_frames:
                    idx += 1
                    if idx % video_stride:
                        if not cap.grab():
                            break
                        continue
                    ok, frame = cap.read()
                    if not ok or frame is None:
                        break
                    if self.max_image_side and \
                            max(frame.shape[:2]) > self.max_image_side:
                        raise ImageTooLargeError(
                            f'video frames too large: {path} is '
                            f'{frame.shape[1]} x {frame.shape[0]} px, the '
                            f'limit is {self.max_image_side} px per side '
                            '(raise max_image_side)')
                    frame = to_bgr_uint8(frame, name=f'{path} frame {idx}')
                    state['processed'] += 1
                    self._video_frame(src, res, state, frame, idx,
                                      fps / video_stride, return_maps)
                    pbar.update(1)
            finally:
                self._flush()
                pbar.close()
            if state['error']:
                raise ValueError(state['error'])
            if state['processed'] == 0:
                raise ValueError(f'no frame could be decoded from video '
                                 f'(corrupt or empty): {path}')
            self._finish_video(src, res, state)
        finally:
            cap.release()
            if state['writer'] is not None:
                state['writer'].release()
            if state['tmp'] and osp.exists(state['tmp']):
                os.remove(state['tmp'])

    def _video_frame(self, src, res, state, frame, idx, out_fps,
                     return_maps) -> None:
        faces, crops, info = self._detect_and_crop(frame)
        entry = dict(frame_idx=idx, faces=faces)
        if info['rejected']:
            entry['rejected_faces'] = info['rejected']
        res['frames'].append(entry)
        res['num_frames'] += 1

        def finish(u: _Unit) -> None:
            if u.faces:
                entry['score'] = max(f['score'] for f in u.faces)
            else:
                res['num_frames_without_face'] += 1
                entry['score'] = None
            if self._out_dir:
                vis = draw_faces(u.img, u.faces, map_key=self.vis_map)
                text = f'frame {idx}'
                cv2.putText(vis, text, (4, vis.shape[0] - 6),
                            cv2.FONT_HERSHEY_SIMPLEX,
                            max(0.35, max(vis.shape[:2]) / 1200),
                            (255, 255, 255), 1, cv2.LINE_AA)
                self._write_frame(src, res, state, vis, out_fps)
            if not return_maps:
                for f in u.faces:
                    f.pop('map', None)
                    f.pop('map_fake', None)

        def fail(msg: str) -> None:
            state['error'] = state['error'] or (
                msg if src.name in msg else f'{src.name}: {msg}')

        self._enqueue(_Unit(frame, faces, crops, finish, fail))

    def _write_frame(self, src, res, state, vis, out_fps) -> None:
        if state['writer'] is None and state.get('no_video') is None:
            name = self._unique(src.name, '.mp4')
            final = osp.join(self._vis_dir, name)
            tmp = osp.join(self._vis_dir, f'.{name}.tmp.mp4')
            h, w = vis.shape[:2]
            writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'),
                                     out_fps, (w, h))
            if writer.isOpened():
                state.update(writer=writer, tmp=tmp, final=final,
                             size=(w, h))
            else:  # no encoder: the frame strip only
                state['no_video'] = True
                self._used.discard(name)
        if state['writer'] is not None:
            frame = vis
            if (vis.shape[1], vis.shape[0]) != state['size']:
                frame = cv2.resize(vis, state['size'])
            state['writer'].write(frame)
        # thumbnails for the strip, thinned so that at most 16 are kept
        n = state['written']
        state['written'] += 1
        if n % state['keep_every'] == 0:
            th = 128
            scale = th / vis.shape[0]
            thumb = cv2.resize(vis, (max(1, round(vis.shape[1] * scale)),
                                     th), interpolation=cv2.INTER_AREA)
            state['thumbs'].append(thumb)
            if len(state['thumbs']) > 16:
                state['thumbs'] = state['thumbs'][::2]
                state['keep_every'] *= 2

    def _finish_video(self, src: _Source, res: dict, state: dict) -> None:
        scores = [fr['score'] for fr in res['frames']
                  if fr.get('score') is not None]
        res['score'] = float(np.mean(scores)) if scores else None
        res['label'] = None if not scores else (
            'fake' if res['score'] >= self.threshold else 'real')
        if not scores:
            res['error'] = (f'no face found in any of the '
                            f'{res["num_frames"]} frames of {src.name}')
        if not self._out_dir:
            return
        if state['writer'] is not None:
            state['writer'].release()
            state['writer'] = None
            os.replace(state['tmp'], state['final'])
            state['tmp'] = None
            res['vis_path'] = self._rel(state['final'])
        if state['thumbs']:
            thumbs = state['thumbs']
            if len(thumbs) > 8:
                pick = np.linspace(0, len(thumbs) - 1, 8).round().astype(int)
                thumbs = [thumbs[i] for i in pick]
            strip = np.concatenate(thumbs, axis=1)
            path = osp.join(self._vis_dir,
                            self._unique(src.name, '.png', '_strip'))
            atomic_save_image(path, strip, overwrite=self._overwrite)
            res['strip_path'] = self._rel(path)

    # ------------------------------------------------------------ call
    def __call__(self,
                 inputs: Union[InputType, Sequence[InputType]],
                 out_dir: Optional[str] = None,
                 video_stride: int = 1,
                 max_frames: Optional[int] = None,
                 overwrite: bool = False,
                 return_vis: bool = False,
                 return_maps: bool = True) -> List[dict]:
        """Run on images, folders (their files, not recursive) and videos.

        Args:
            inputs: An image path, a ``(H, W[, C])`` array, a folder, a
                video file (.mp4/.avi/.mov/.mkv) or a list of those.
            out_dir (str, optional): Write ``results.json``, the overlay
                JPGs and, per video, an annotated mp4 and a frame-strip PNG
                under ``out_dir/vis/``. Defaults to None.
            video_stride (int): Use every n-th frame. Defaults to 1.
            max_frames (int, optional): At most this many frames per video.
            overwrite (bool): Replace an existing ``results.json`` (and
                reuse overlay names). Defaults to False (refuse).
            return_vis (bool): Add the overlay image as ``vis`` to each
                image result. Defaults to False.
            return_maps (bool): Keep the crop-size maps (``map``,
                ``map_fake``) in the results; turn off to save memory on
                long videos. Defaults to True.

        Returns:
            list[dict]: One result per input file or array, in order:
            ``input``, ``kind`` (``'image'``/``'video'``), ``error`` (None
            or a message naming the file) and, for an image, ``faces``,
            ``score`` (max over faces), ``label``, ``height``/``width``;
            for a video, ``frames`` (``frame_idx``, ``faces``, ``score``),
            ``score`` (mean over frames with a face of the frame's max face
            score), ``num_frames``, ``num_frames_without_face``, ``fps``.
            Each face: ``box`` (x1, y1, x2, y2), ``det_score``, ``score``
            (fake probability), ``label``, ``landmarks``, ``crop_box``
            (x0, y0, side), ``affine`` (image -> crop), ``map`` and
            ``map_fake`` (``crop_size`` x ``crop_size`` float32 in [0, 1]).

        With ``out_dir``, each result is also appended to
        ``out_dir/results.jsonl`` (one JSON object per line, in input order)
        as soon as it is final, so a crash or a full disk loses nothing
        already computed; ``results.json`` (with ``meta``) is written
        atomically at the end.

        Raises:
            FileExistsError: ``out_dir/results.json`` or ``results.jsonl``
                exists and ``overwrite`` is False (raised before any work).
            ResultsNotSavedError: ``results.json`` could not be written
                (an ``OSError`` naming it, with the ``results`` attached).
        """
        from tqdm import tqdm
        if int(video_stride) < 1:
            raise ValueError(f'video_stride must be >= 1, got {video_stride}')
        if max_frames is not None and int(max_frames) < 1:
            raise ValueError(f'max_frames must be >= 1, got {max_frames}')
        video_stride = int(video_stride)
        self._out_dir = osp.abspath(out_dir) if out_dir else None
        self._vis_dir = osp.join(self._out_dir, 'vis') if out_dir else None
        self._overwrite = overwrite
        self._used = set()
        if self._out_dir:
            out_json = osp.join(self._out_dir, RESULTS_FILE)
            lines = osp.join(self._out_dir, RESULTS_LINES_FILE)
            for path in (out_json, lines):
                if osp.exists(path) and not overwrite:
                    raise FileExistsError(
                        f'{path} exists: choose another out_dir or pass '
                        'overwrite=True (--overwrite)')
            os.makedirs(self._vis_dir, exist_ok=True)
        sources = self._expand(inputs)
        results: List[dict] = []
        self._pending, self._pending_faces = [], 0
        self._lines = _LineWriter(
            osp.join(self._out_dir, RESULTS_LINES_FILE)
            if self._out_dir else None)
        pbar = tqdm(sources, desc='mmfocus infer', unit='file',
                    disable=not self.show_progress)
        try:
            for i, src in enumerate(pbar):
                self._current = i
                res: Dict[str, Any] = dict(
                    input=src.path or src.name,
                    kind=src.kind if src.kind != 'error' else 'unknown',
                    error=src.error, score=None, label=None)
                results.append(res)
                if not src.error:
                    try:
                        if src.kind == 'video':
                            self._flush()  # keep frames of one video together
                            self._run_video(src, res, video_stride,
                                            max_frames, return_maps)
                        else:
                            self._run_image(src, res, return_vis, return_maps)
                    except _BAD_INPUT_ERRORS as e:
                        msg = _one_line(e)
                        name = src.path or src.name
                        res['error'] = msg if name in msg \
                            else f'{name}: {msg}'
                # every result before the first one still waiting for the
                # model is final
                done = min((u.owner for u in self._pending
                            if u.owner is not None), default=i + 1)
                self._lines.write_upto(results, done)
            self._flush()
            self._lines.write_upto(results, len(results))
        finally:
            self._current = None
            self._lines.close()
            pbar.close()
        if self._out_dir:
            meta = dict(
                config=self.config, checkpoint=self.weights,
                detector=repr(self.detector), margin=self.margin,
                crop_size=self.crop_size, threshold=self.threshold,
                vis_map=self.vis_map,
                video_stride=video_stride, max_frames=max_frames,
                created=datetime.datetime.now().isoformat(
                    timespec='seconds'))
            try:
                atomic_write_json(
                    out_json,
                    dict(meta=meta, results=[to_json(r) for r in results]),
                    overwrite=True)
            except OSError as e:
                where = (f'{self._lines.written} of {len(results)} results '
                         f'are in {self._lines.path}')
                if self._lines.error is not None:
                    where += (' (it could not be written further: '
                              f'{_one_line(self._lines.error)})')
                raise ResultsNotSavedError(
                    e.errno, f'{e.strerror or _one_line(e)} ({where})',
                    out_json, results, self._lines.written) from e
        return results


class _LineWriter:
    """Append results to a JSON-lines file in order, flushing each line; a
    failed write (a full disk) ends the file at its last complete line and
    stops it, not the run."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.done = 0  # results handed over
        self.written = 0  # complete lines in the file
        self.error: Optional[OSError] = None
        self._f = None
        self._size = 0  # bytes of the complete lines
        if path:
            try:
                self._f = open(path, 'w')
            except OSError as e:
                self.error = e

    def write_upto(self, results: List[dict], n: int) -> None:
        while self.done < n:
            if self._f is not None:
                line = json.dumps(to_json(results[self.done])) + '\n'
                try:
                    self._f.write(line)
                    self._f.flush()
                    self.written += 1
                    self._size = self._f.tell()
                except OSError as e:
                    self.error = e
                    self.close()
                    try:  # drop a half-written line
                        os.truncate(self.path, self._size)
                    except OSError:
                        pass
            self.done += 1

    def close(self) -> None:
        if self._f is not None:
            f, self._f = self._f, None
            try:
                f.close()
            except OSError as e:
                self.error = self.error or e


def to_json(result: dict) -> dict:
    """A result without its arrays (maps, overlay), ready for ``json``."""
    drop = ('map', 'map_fake', 'vis')

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if k not in drop}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
        return x

    out = clean(result)
    json.dumps(out)  # fail here, not half-way through the file
    return out
