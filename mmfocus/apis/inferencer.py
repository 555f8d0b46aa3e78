# Copyright (c) mmfocus contributors.
"""FocusInferencer: faces in photos, folders and videos -> fake scores and
manipulation maps, projected back onto the full image.

The inferencer orchestrates; the parts live where they belong: the
projection of a crop-space map onto the image in
:mod:`mmfocus.faces.align` (:func:`~mmfocus.faces.align.project_map`), the
overlays and frame strips in :mod:`mmfocus.visualization.inference_draw`,
video reading and writing in :mod:`mmfocus.utils.video`, the expansion of
the inputs in :mod:`mmfocus.apis.sources` and the files of ``out_dir``
(names, ``results.jsonl``, ``results.json``) in
:mod:`mmfocus.apis.outputs`. Each call keeps its state in a
:class:`_Call` of its own, so that two calls share nothing.

Example:
    >>> from mmfocus.apis import FocusInferencer
    >>> inferencer = FocusInferencer(
    ...     'configs/focus/vit-demo_demo-sbi.py',
    ...     'checkpoints/focus_vit-demo_demo-sbi.pth')
    >>> [res] = inferencer('demo/faces/photos/2008_001009.jpg')
    >>> [(f['score'], f['label']) for f in res['faces']]
"""
import datetime
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmfocus.faces import (DEFAULT_DETECTOR, build_face_detector, crop_face,
                           detect_multiscale, implausible_face, square_box)
from mmfocus.faces.align import project_map
from mmfocus.utils.io import atomic_save_image
from mmfocus.utils.video import (VIDEO_EXTS, AtomicVideoWriter, open_video,
                                 read_frames)
from mmfocus.visualization.inference_draw import (FAKE_COLOR, REAL_COLOR,
                                                  FrameStrip, draw_faces,
                                                  draw_frame)
from .inference import (DEFAULT_MAX_IMAGE_SIDE, ImageTooLargeError,
                        inference_model, init_model, is_grey_image,
                        read_image, to_bgr_uint8)
from .outputs import (RESULTS_FILE, RESULTS_LINES_FILE, LineWriter,
                      OutputDir, ResultsNotSavedError, one_line,
                      save_results, to_json)
from .sources import Source, expand_inputs

# the names this module has always offered (some now live elsewhere)
__all__ = [
    'FocusInferencer', 'ResultsNotSavedError', 'project_map', 'draw_faces',
    'to_json', 'DEFAULT_DETECTOR', 'VIDEO_EXTS', 'IMAGE_RULE',
    'GREY_WARNING', 'RESULTS_FILE', 'RESULTS_LINES_FILE', 'FAKE_COLOR',
    'REAL_COLOR', 'InputType'
]

# DEFAULT_DETECTOR (imported above) is mmfocus.faces.DEFAULT_DETECTOR, the
# dataset converters' detector: HOG on a copy downscaled to 640 px, 68
# landmarks fitted at full resolution, the same score threshold.
#: How an image's score and label come from its faces.
IMAGE_RULE = 'max over faces'
GREY_WARNING = ('grey image: the model was trained on colour faces, its '
                'scores on grey input are not calibrated (see the inference '
                'guide)')

InputType = Union[str, np.ndarray]
# What a bad input may raise while it is read, detected, cropped or its
# outputs written; reported in its result, never raised.
_BAD_INPUT_ERRORS = (OSError, ValueError, TypeError, MemoryError, cv2.error)


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


@dataclass
class _Call:
    """The state of one :meth:`FocusInferencer.__call__`, made per call and
    passed down: its output folder (None without ``out_dir``), its
    ``results.jsonl`` writer, its options, the units waiting for the model
    and the index of the input being processed."""
    out: Optional[OutputDir]
    lines: LineWriter
    return_vis: bool = False
    return_maps: bool = True
    video_stride: int = 1
    max_frames: Optional[int] = None
    pending: List[_Unit] = field(default_factory=list)
    pending_faces: int = 0
    current: Optional[int] = None
    progress: Optional[Callable[[int, Optional[int]], None]] = None


@dataclass
class _Video:
    """The state of one video of a call: its annotated mp4 (None until the
    first frame, or when no encoder opens), its frame strip, the frames
    processed and the first failure of its batches."""
    writer: Optional[AtomicVideoWriter] = None
    no_video: bool = False
    strip: FrameStrip = field(default_factory=FrameStrip)
    processed: int = 0
    error: Optional[str] = None


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
    (:func:`mmfocus.faces.align.project_map`, used for the overlays).

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

    def _enqueue(self, call: _Call, unit: _Unit) -> None:
        unit.owner = call.current
        call.pending.append(unit)
        call.pending_faces += len(unit.crops)
        if call.pending_faces >= self.batch_size:
            self._flush(call)

    def _flush(self, call: _Call) -> None:
        units, call.pending, call.pending_faces = call.pending, [], 0
        crops = [c for u in units for c in u.crops]
        try:
            preds = inference_model(self.model, crops,
                                    batch_size=self.batch_size) \
                if crops else []
        except _BAD_INPUT_ERRORS as e:
            for u in units:
                u.fail(f'model inference failed: {one_line(e)}')
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
                for key, field_ in (('map', 'pred_map'),
                                    ('map_fake', 'pred_map_fake')):
                    m = ds.get(field_).float().numpy()
                    if m.shape != (S, S):
                        m = cv2.resize(m, (S, S),
                                       interpolation=cv2.INTER_LINEAR)
                    f[key] = np.clip(m, 0, 1).astype(np.float32)
            try:
                u.finish(u)
            except _BAD_INPUT_ERRORS as e:
                u.fail(one_line(e))

    @staticmethod
    def _drop_maps(faces: List[dict]) -> None:
        for f in faces:
            f.pop('map', None)
            f.pop('map_fake', None)

    # ------------------------------------------------------------ images
    def _run_image(self, call: _Call, src: Source, res: dict) -> None:
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
            if call.return_vis:
                res['vis'] = img
            return

        def finish(u: _Unit) -> None:
            res['faces'] = u.faces
            res['score'] = max(f['score'] for f in u.faces)
            res['label'] = ('fake' if res['score'] >= self.threshold
                            else 'real')
            if call.return_vis or call.out is not None:
                vis = draw_faces(u.img, u.faces, map_key=self.vis_map)
                if call.out is not None:
                    path = call.out.vis_path(src.name, '.jpg')
                    atomic_save_image(path, vis,
                                      overwrite=call.out.overwrite)
                    res['vis_path'] = call.out.rel(path)
                if call.return_vis:
                    res['vis'] = vis
            if not call.return_maps:
                self._drop_maps(u.faces)

        def fail(msg: str) -> None:
            res['error'] = msg if src.name in msg else f'{src.name}: {msg}'

        self._enqueue(call, _Unit(img, faces, crops, finish, fail))

    # ------------------------------------------------------------ videos
    def _run_video(self, call: _Call, src: Source, res: dict) -> None:
        from tqdm import tqdm
        path = src.path
        stride, max_frames = call.video_stride, call.max_frames
        cap, fps, total = open_video(path)
        video = _Video()
        try:
            res.update(fps=fps, frames=[], num_frames=0,
                       num_frames_without_face=0)
            est = (total + stride - 1) // stride if total > 0 else None
            if max_frames is not None and est is not None:
                est = min(est, max_frames)
            pbar = tqdm(total=est, desc=osp.basename(path), unit='frame',
                        leave=False, disable=not self.show_progress)
            try:
                for idx, frame in read_frames(cap, stride, max_frames):
                    if self.max_image_side and \
                            max(frame.shape[:2]) > self.max_image_side:
                        raise ImageTooLargeError(
                            f'video frames too large: {path} is '
                            f'{frame.shape[1]} x {frame.shape[0]} px, the '
                            f'limit is {self.max_image_side} px per side '
                            '(raise max_image_side)')
                    frame = to_bgr_uint8(frame, name=f'{path} frame {idx}')
                    video.processed += 1
                    self._video_frame(call, src, res, video, frame, idx,
                                      fps / stride)
                    pbar.update(1)
                    if call.progress is not None:
                        call.progress(video.processed, est)
            finally:
                self._flush(call)
                pbar.close()
            if video.error:
                raise ValueError(video.error)
            if video.processed == 0:
                raise ValueError(f'no frame could be decoded from video '
                                 f'(corrupt or empty): {path}')
            self._finish_video(call, src, res, video)
        finally:
            cap.release()
            if video.writer is not None:
                video.writer.close()

    def _video_frame(self, call: _Call, src: Source, res: dict,
                     video: _Video, frame: np.ndarray, idx: int,
                     out_fps: float) -> None:
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
            if call.out is not None:
                vis = draw_frame(u.img, u.faces, idx, map_key=self.vis_map)
                self._write_frame(call, src, video, vis, out_fps)
            if not call.return_maps:
                self._drop_maps(u.faces)

        def fail(msg: str) -> None:
            video.error = video.error or (
                msg if src.name in msg else f'{src.name}: {msg}')

        self._enqueue(call, _Unit(frame, faces, crops, finish, fail))

    @staticmethod
    def _write_frame(call: _Call, src: Source, video: _Video,
                     vis: np.ndarray, out_fps: float) -> None:
        if video.writer is None and not video.no_video:
            path = call.out.vis_path(src.name, '.mp4')
            h, w = vis.shape[:2]
            writer = AtomicVideoWriter(path, out_fps, (w, h))
            if writer.opened:
                video.writer = writer
            else:  # no encoder: the frame strip only
                writer.close()
                video.no_video = True
                call.out.release(path)
        if video.writer is not None:
            video.writer.write(vis)
        video.strip.add(vis)

    def _finish_video(self, call: _Call, src: Source, res: dict,
                      video: _Video) -> None:
        scores = [fr['score'] for fr in res['frames']
                  if fr.get('score') is not None]
        res['score'] = float(np.mean(scores)) if scores else None
        res['label'] = None if not scores else (
            'fake' if res['score'] >= self.threshold else 'real')
        if not scores:
            res['error'] = (f'no face found in any of the '
                            f'{res["num_frames"]} frames of {src.name}')
        if call.out is None:
            return
        if video.writer is not None:
            video.writer.commit()
            res['vis_path'] = call.out.rel(video.writer.path)
            video.writer = None
        strip = video.strip.image()
        if strip is not None:
            path = call.out.vis_path(src.name, '.png', '_strip')
            atomic_save_image(path, strip, overwrite=call.out.overwrite)
            res['strip_path'] = call.out.rel(path)

    # ------------------------------------------------------------ call
    def __call__(self,
                 inputs: Union[InputType, Sequence[InputType]],
                 out_dir: Optional[str] = None,
                 video_stride: int = 1,
                 max_frames: Optional[int] = None,
                 overwrite: bool = False,
                 return_vis: bool = False,
                 return_maps: bool = True,
                 progress: Optional[Callable] = None) -> List[dict]:
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
            progress (callable, optional): ``progress(done, total)`` after
                each video frame (``total`` None when the file won't say).

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
        out = OutputDir(out_dir, overwrite) if out_dir else None
        if out is not None:
            out.prepare()
        sources = expand_inputs(inputs)
        results: List[dict] = []
        call = _Call(out=out,
                     lines=LineWriter(out.results_lines if out else None),
                     return_vis=return_vis, return_maps=return_maps,
                     video_stride=video_stride, max_frames=max_frames,
                     progress=progress)
        pbar = tqdm(sources, desc='mmfocus infer', unit='file',
                    disable=not self.show_progress)
        try:
            for i, src in enumerate(pbar):
                call.current = i
                res: Dict[str, Any] = dict(
                    input=src.path or src.name,
                    kind=src.kind if src.kind != 'error' else 'unknown',
                    error=src.error, score=None, label=None)
                results.append(res)
                if not src.error:
                    try:
                        if src.kind == 'video':
                            self._flush(call)  # keep a video's frames together
                            self._run_video(call, src, res)
                        else:
                            self._run_image(call, src, res)
                    except _BAD_INPUT_ERRORS as e:
                        msg = one_line(e)
                        name = src.path or src.name
                        res['error'] = msg if name in msg \
                            else f'{name}: {msg}'
                # every result before the first one still waiting for the
                # model is final
                done = min((u.owner for u in call.pending
                            if u.owner is not None), default=i + 1)
                call.lines.write_upto(results, done)
            self._flush(call)
            call.lines.write_upto(results, len(results))
        finally:
            call.lines.close()
            pbar.close()
        if out is not None:
            meta = dict(
                config=self.config, checkpoint=self.weights,
                detector=repr(self.detector), margin=self.margin,
                crop_size=self.crop_size, threshold=self.threshold,
                vis_map=self.vis_map,
                video_stride=video_stride, max_frames=max_frames,
                created=datetime.datetime.now().isoformat(
                    timespec='seconds'))
            save_results(out.results_json, meta, results, call.lines)
        return results
