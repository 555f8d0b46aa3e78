# Copyright (c) mmfocus contributors.
"""Face detector backends behind one interface.

Every backend takes a BGR ``uint8`` image (the cv2 / mmcv convention) and
returns a list of :class:`Face` records in image pixel coordinates. Backends
are registered in :data:`mmfocus.registry.FACE_DETECTORS` and can be built
from a config dict with :func:`build_face_detector` or constructed directly.

Three backends:

- :class:`DlibDetector`: dlib's HOG detector plus the 68-point shape
  predictor shipped inside the ``face_recognition_models`` package. Fully
  offline, CPU only, ~40 ms per 256 px image. Used for the demo data.
- :class:`RetinaFaceDetector`: RetinaFace (what the FoCus paper uses) through
  the optional ``insightface`` + ``onnxruntime`` packages, loading a local
  ONNX weight file only (nothing is downloaded).
- :class:`~mmfocus.faces.retinaface.TorchRetinaFaceDetector`:
  RetinaFace-MobileNet0.25 in PyTorch from a local ``.pth`` file, batched
  over a video's frames on CPU or CUDA.

Licence note: the 68-point landmark model was trained on iBUG 300-W, whose
licence excludes commercial use.
"""
import importlib.util
import os.path as osp
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Tuple, Union

import cv2
import numpy as np

from mmfocus.registry import FACE_DETECTORS

_DLIB_MODEL_FILES = {
    68: 'shape_predictor_68_face_landmarks.dat',
    5: 'shape_predictor_5_face_landmarks.dat',
}

#: The one default face detector of mmfocus: the dataset converters, the
#: inferencer (``tools/infer.py``) and the demo data (which keeps a stricter
#: ``score_thr``, see :mod:`mmfocus.faces.demo`) start from it. dlib HOG on
#: a copy downscaled to 640 px, 68 landmarks fitted at full resolution,
#: dlib's own score threshold (``score_thr=0.0``, its ``adjust_threshold``).
DEFAULT_DETECTOR = dict(type='DlibDetector', upsample=1, landmarks=68,
                        max_side=640)


@dataclass
class Face:
    """One detected face.

    Attributes:
        bbox (np.ndarray): ``(4,)`` float32 box ``x1, y1, x2, y2`` in pixels.
        score (float): Detector confidence (backend specific scale).
        landmarks (np.ndarray, optional): ``(K, 2)`` float32 points ``x, y``
            (K = 68 in the iBUG 300-W order, or 5). None if the backend gave
            no landmarks.
    """
    bbox: np.ndarray
    score: float
    landmarks: Optional[np.ndarray] = None


class BaseFaceDetector(metaclass=ABCMeta):
    """Interface of a face detector backend."""

    @abstractmethod
    def detect(self, img: np.ndarray) -> List[Face]:
        """Detect faces.

        Args:
            img (np.ndarray): ``(H, W, 3)`` BGR uint8 image (a ``(H, W)``
                grey image is accepted too).

        Returns:
            list[Face]: Faces sorted by descending score.
        """

    def detect_batch(self, imgs) -> List[List[Face]]:
        """Detect faces on several images (e.g. one video's sampled
        frames). Backends that batch on a device
        (:class:`~mmfocus.faces.retinaface.TorchRetinaFaceDetector`)
        override it; this default detects them one by one.

        Args:
            imgs (Sequence[np.ndarray]): BGR uint8 images.

        Returns:
            list[list[Face]]: Per image, its faces by descending score.
        """
        return [self.detect(img) for img in imgs]

    def __call__(self, img: np.ndarray) -> List[Face]:
        return self.detect(img)


def _as_bgr_uint8(img: np.ndarray) -> np.ndarray:
    """A detector's input checked: BGR (or grey, made BGR) uint8."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise TypeError(f'expected a uint8 image, got dtype {img.dtype}')
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    raise ValueError(f'expected an (H, W, 3) or (H, W) image, got shape '
                     f'{img.shape}')


def _to_rgb_uint8(img: np.ndarray) -> np.ndarray:
    """BGR/grey image -> contiguous RGB uint8, the layout dlib expects."""
    return np.ascontiguousarray(
        cv2.cvtColor(_as_bgr_uint8(img), cv2.COLOR_BGR2RGB))


def _shrink_to_side(img: np.ndarray, max_side: Optional[int],
                    interpolation: int) -> Tuple[np.ndarray, float]:
    """``img`` shrunk so that its longer side is at most ``max_side`` (None:
    unchanged), and the scale applied (1.0 when unchanged)."""
    h, w = img.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return img, 1.0
    scale = max_side / max(h, w)
    return cv2.resize(img, (max(1, round(w * scale)),
                            max(1, round(h * scale))),
                      interpolation=interpolation), scale


def dlib_shape_predictor_path(landmarks: int = 68) -> str:
    """Locate a shape predictor ``.dat`` file inside
    ``face_recognition_models`` without importing that package (its
    ``pkg_resources`` import fails on recent setuptools).

    Args:
        landmarks (int): 68 or 5. Defaults to 68.

    Returns:
        str: Absolute path of the model file.
    """
    if landmarks not in _DLIB_MODEL_FILES:
        raise ValueError(f'landmarks must be one of '
                         f'{sorted(_DLIB_MODEL_FILES)}, got {landmarks}')
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            'package face_recognition_models is not installed; it holds the '
            'dlib landmark models (pip install -r requirements/faces.txt)')
    for root in spec.submodule_search_locations:
        path = osp.join(root, 'models', _DLIB_MODEL_FILES[landmarks])
        if osp.isfile(path):
            return path
    raise FileNotFoundError(
        f'{_DLIB_MODEL_FILES[landmarks]} not found under '
        f'{list(spec.submodule_search_locations)}')


def _import_dlib():
    try:
        import dlib
    except ImportError as e:  # pragma: no cover - depends on the env
        raise ImportError('DlibDetector needs the package dlib-bin (pip '
                          'install -r requirements/faces.txt)') from e
    return dlib


@lru_cache(maxsize=None)
def _dlib_frontal_detector():
    """dlib's HOG detector, built once per process (takes ~1 s)."""
    return _import_dlib().get_frontal_face_detector()


@lru_cache(maxsize=None)
def _dlib_shape_predictor(path: str):
    """A shape predictor, loaded once per process and file (~1 s)."""
    return _import_dlib().shape_predictor(path)


@FACE_DETECTORS.register_module()
class DlibDetector(BaseFaceDetector):
    """dlib HOG face detector + shape predictor landmarks (offline, CPU).

    Args:
        upsample (int): How many times dlib upsamples the image before
            detection (each doubles the size; finds faces down to ~40 px at
            1). Defaults to 1.
        landmarks (int): 68 (iBUG 300-W order) or 5 point model, or 0 for
            no landmarks. Defaults to 68.
        max_side (int, optional): If set, images whose longer side exceeds it
            are downscaled for the HOG detector; landmarks are then fitted on
            the full-resolution image inside the rescaled box. Defaults to
            None.
        score_thr (float): ``adjust_threshold`` of dlib's detector; lower
            finds more (and more false) faces. Defaults to 0.
        predictor_path (str, optional): Explicit shape predictor ``.dat``;
            defaults to the file inside ``face_recognition_models``.

    Example:
        >>> det = DlibDetector()
        >>> faces = det.detect(cv2.imread('demo/faces/photos/x.jpg'))
    """

    def __init__(self,
                 upsample: int = 1,
                 landmarks: int = 68,
                 max_side: Optional[int] = None,
                 score_thr: float = 0.0,
                 predictor_path: Optional[str] = None) -> None:
        dlib = _import_dlib()
        self.upsample = int(upsample)
        self.landmarks = int(landmarks)
        self.max_side = max_side
        self.score_thr = float(score_thr)
        self._dlib = dlib
        self._detector = _dlib_frontal_detector()
        self._predictor = None
        if self.landmarks:
            if predictor_path is None:
                predictor_path = dlib_shape_predictor_path(self.landmarks)
            elif not osp.isfile(predictor_path):
                raise FileNotFoundError(
                    f'shape predictor file not found: {predictor_path}')
            self._predictor = _dlib_shape_predictor(
                osp.abspath(predictor_path))
        self.predictor_path = predictor_path

    def detect(self, img: np.ndarray) -> List[Face]:
        rgb = _to_rgb_uint8(img)
        det_img, scale = _shrink_to_side(rgb, self.max_side, cv2.INTER_AREA)
        rects, scores, _ = self._detector.run(det_img, self.upsample,
                                              self.score_thr)
        faces = []
        for rect, score in zip(rects, scores):
            bbox = np.array(
                [rect.left(), rect.top(),
                 rect.right() + 1, rect.bottom() + 1],
                dtype=np.float32) / scale
            faces.append(
                Face(bbox=bbox.astype(np.float32), score=float(score),
                     landmarks=self.fit_landmarks(rgb, bbox, _rgb=True)))
        faces.sort(key=lambda f: -f.score)
        return faces

    def fit_landmarks(self, img: np.ndarray, bbox: np.ndarray,
                      _rgb: bool = False) -> Optional[np.ndarray]:
        """Fit the shape predictor inside a box.

        Args:
            img (np.ndarray): BGR uint8 image.
            bbox (np.ndarray): ``x1, y1, x2, y2``.

        Returns:
            np.ndarray | None: ``(K, 2)`` float32 landmarks, None when the
            detector was built with ``landmarks=0``.
        """
        if self._predictor is None:
            return None
        rgb = img if _rgb else _to_rgb_uint8(img)
        x1, y1, x2, y2 = [int(round(float(v))) for v in bbox]
        rect = self._dlib.rectangle(x1, y1, x2 - 1, y2 - 1)
        shape = self._predictor(rgb, rect)
        return np.array([[p.x, p.y] for p in shape.parts()],
                        dtype=np.float32)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(upsample={self.upsample}, '
                f'landmarks={self.landmarks}, max_side={self.max_side}, '
                f'score_thr={self.score_thr}, '
                f'predictor_path={self.predictor_path!r})')


@FACE_DETECTORS.register_module()
class RetinaFaceDetector(BaseFaceDetector):
    """RetinaFace from a local ONNX file (e.g. insightface's ``det_10g.onnx``).

    Needs the optional packages ``insightface`` and ``onnxruntime``; nothing
    is downloaded. RetinaFace gives 5 landmarks; with ``landmarks=68`` the
    dlib shape predictor is fitted inside each box (needs dlib-bin).

    Args:
        weights (str): Path of the local ONNX weight file.
        score_thr (float): Detection threshold. Defaults to 0.5.
        input_size (int): Square network input size. Defaults to 640.
        landmarks (int): 5 (RetinaFace's own) or 68. Defaults to 5.
    """

    def __init__(self,
                 weights: str,
                 score_thr: float = 0.5,
                 input_size: int = 640,
                 landmarks: int = 5) -> None:
        if not weights or not osp.isfile(weights):
            raise FileNotFoundError(
                f'RetinaFace weight file not found: {weights!r} (point '
                f'`weights` to a local ONNX file such as det_10g.onnx)')
        missing = [
            name for name in ('insightface', 'onnxruntime')
            if importlib.util.find_spec(name) is None
        ]
        if missing:
            raise ImportError(
                f'RetinaFaceDetector needs the optional package(s) '
                f'{", ".join(missing)} (pip install {" ".join(missing)}); '
                f'or use DlibDetector')
        if landmarks not in (5, 68):
            raise ValueError(f'landmarks must be 5 or 68, got {landmarks}')
        from insightface.model_zoo import get_model
        self.weights = weights
        self.score_thr = float(score_thr)
        self.input_size = int(input_size)
        self.landmarks = landmarks
        self._model = get_model(weights, providers=['CPUExecutionProvider'])
        self._model.prepare(
            ctx_id=-1, input_size=(self.input_size, self.input_size),
            det_thresh=self.score_thr)
        self._refiner = (DlibDetector(landmarks=68)
                         if landmarks == 68 else None)

    def detect(self, img: np.ndarray) -> List[Face]:
        dets, kpss = self._model.detect(img, max_num=0)
        faces = []
        for i, det in enumerate(dets):
            bbox = np.asarray(det[:4], dtype=np.float32)
            if self._refiner is not None:
                lmk = self._refiner.fit_landmarks(img, bbox)
            else:
                lmk = (None if kpss is None else np.asarray(
                    kpss[i], dtype=np.float32))
            faces.append(Face(bbox=bbox, score=float(det[4]), landmarks=lmk))
        faces.sort(key=lambda f: -f.score)
        return faces

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(weights={self.weights!r}, '
                f'score_thr={self.score_thr}, input_size={self.input_size}, '
                f'landmarks={self.landmarks})')


def build_face_detector(
        cfg: Union[dict, BaseFaceDetector, None] = None) -> BaseFaceDetector:
    """Build a face detector from a config dict (or pass one through).

    Args:
        cfg (dict | BaseFaceDetector, optional): e.g.
            ``dict(type='DlibDetector', upsample=1)``. None builds the
            default :class:`DlibDetector`. Defaults to None.

    Returns:
        BaseFaceDetector: The detector.
    """
    if cfg is None:
        cfg = dict(type='DlibDetector')
    if isinstance(cfg, BaseFaceDetector):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'face detector config must be a dict with a "type" '
                        f'key or a BaseFaceDetector, got {cfg!r}')
    return FACE_DETECTORS.build(dict(cfg))


# ------------------------------------------------------ plausible faces
def _landmark_parts(lmk: np.ndarray):
    """``(left eye, right eye, nose, mouth)`` centres of 68- or 5-point
    landmarks (image left / right), or None for other layouts."""
    lmk = np.asarray(lmk, np.float64)
    if len(lmk) >= 68:
        return (lmk[36:42].mean(0), lmk[42:48].mean(0), lmk[30],
                lmk[48:68].mean(0))
    if len(lmk) == 5:  # RetinaFace: eyes, nose, mouth corners
        return lmk[0], lmk[1], lmk[2], lmk[3:5].mean(0)
    return None


def implausible_face(face: Face, img_shape, min_score: Optional[float] = None,
                     min_side: float = 20., min_rel_side: float = 0.01,
                     max_aspect: float = 2.0,
                     eye_dist: tuple = (0.15, 1.0),
                     mouth_drop: tuple = (0.4, 4.0)) -> Optional[str]:
    """Why a detection is not a plausible face, or None if it is.

    A round emblem, a logo or a patterned shirt can fool a face detector;
    the shape predictor then still fits a face-shaped set of landmarks, but
    rarely one that is consistent with the box. The checks, in order:

    1. the detector's own score: below ``min_score`` (the detector's
       ``score_thr``, the threshold the dataset converters use);
    2. the box: sides shorter than ``min_side`` px or than ``min_rel_side``
       x the longer image side, or an aspect ratio above ``max_aspect``;
    3. the landmarks (68 or 5 points), relative to the eye distance ``d``
       (between the eye centres): ``d`` within ``eye_dist`` x the box
       width; the mouth *below* the eyes, at ``mouth_drop`` x ``d`` from
       the eye line along its normal (so a tilted or upside-down face is
       fine, a mouth above or on the eye line is not); the nose tip
       between the eye line and the mouth; the landmark centre inside the
       box.

    Args:
        face (Face): A detection in image pixels.
        img_shape (tuple): ``(H, W, ...)`` of the image.
        min_score (float, optional): Reject scores below this. Defaults to
            None (no score check).
        min_side (float): Smallest box side in pixels. Defaults to 20.
        min_rel_side (float): Smallest box side relative to the longer
            image side. Defaults to 0.01.
        max_aspect (float): Largest box side ratio. Defaults to 2.
        eye_dist (tuple): Allowed eye distance / box width.
            Defaults to (0.15, 1.0).
        mouth_drop (tuple): Allowed distance of the mouth below the eye
            line / eye distance. Defaults to (0.4, 4.0).

    Returns:
        str | None: A short reason (``'mouth not below the eyes'``...), or
        None for a plausible face.
    """
    if min_score is not None and face.score < min_score:
        return (f'detector score {face.score:.2f} below its threshold '
                f'{min_score:g}')
    x1, y1, x2, y2 = [float(v) for v in face.bbox]
    w, h = x2 - x1, y2 - y1
    if w <= 0 or h <= 0:
        return 'empty box'
    longer = float(max(img_shape[:2]))
    if min(w, h) < min_side:
        return f'box of {min(w, h):.0f} px is below {min_side:g} px'
    if min(w, h) < min_rel_side * longer:
        return (f'box of {min(w, h):.0f} px is below {min_rel_side:g} x '
                f'the image side ({longer:.0f} px)')
    if max(w, h) / min(w, h) > max_aspect:
        return f'box aspect ratio {max(w, h) / min(w, h):.1f}'
    if face.landmarks is None:
        return None
    parts = _landmark_parts(face.landmarks)
    if parts is None:
        return None
    left, right, nose, mouth = parts
    eye_vec = right - left
    d = float(np.hypot(*eye_vec))
    if not np.isfinite(d) or d < 1e-3:
        return 'eyes at the same point'
    if not eye_dist[0] <= d / w <= eye_dist[1]:
        return (f'eye distance {d:.0f} px is {d / w:.2f} x the box width '
                f'(expected {eye_dist[0]:g}-{eye_dist[1]:g})')
    normal = np.array([-eye_vec[1], eye_vec[0]]) / d  # 'down' of the face
    mid = (left + right) / 2
    drop = float((mouth - mid) @ normal) / d
    if drop <= 0:
        return 'mouth not below the eyes'
    if not mouth_drop[0] <= drop <= mouth_drop[1]:
        return (f'mouth at {drop:.2f} x the eye distance below the eyes '
                f'(expected {mouth_drop[0]:g}-{mouth_drop[1]:g})')
    nose_drop = float((nose - mid) @ normal) / d
    if not 0 < nose_drop < drop:
        return 'nose not between the eyes and the mouth'
    cx, cy = np.asarray(face.landmarks, np.float64).mean(0)
    if not (x1 <= cx <= x2 and y1 <= cy <= y2):
        return 'landmarks outside the box'
    return None


# ------------------------------------------------------ large images
def detector_work_side(detector) -> Optional[int]:
    """The image side a detector searches at (``max_side`` of
    :class:`DlibDetector` and ``TorchRetinaFaceDetector``, ``input_size``
    of :class:`RetinaFaceDetector`),
    or None if it searches at full resolution."""
    for name in ('max_side', 'input_size'):
        side = getattr(detector, name, None)
        if side:
            return int(side)
    return None


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0., x2 - x1) * max(0., y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) \
        - inter
    return float(inter / union) if union > 0 else 0.


def detect_tiled(detector: BaseFaceDetector, img: np.ndarray, tile: int,
                 iou_thr: float = 0.3) -> List[Face]:
    """Detect on overlapping ``tile`` x ``tile`` windows (stride
    ``tile / 2``, so a face up to half a tile lies inside one window) and
    merge the detections (greedy NMS at ``iou_thr``), in image
    coordinates."""
    h, w = img.shape[:2]
    stride = max(tile // 2, 1)

    def starts(n):
        if n <= tile:
            return [0]
        out = list(range(0, n - tile + 1, stride))
        if out[-1] != n - tile:
            out.append(n - tile)
        return out

    found: List[Face] = []
    for y in starts(h):
        for x in starts(w):
            win = np.ascontiguousarray(img[y:y + tile, x:x + tile])
            for f in detector.detect(win):
                shift = np.array([x, y], np.float32)
                found.append(Face(
                    bbox=(np.asarray(f.bbox, np.float32) +
                          np.tile(shift, 2)).astype(np.float32),
                    score=float(f.score),
                    landmarks=None if f.landmarks is None else
                    (np.asarray(f.landmarks, np.float32) + shift)))
    found.sort(key=lambda f: -f.score)
    kept: List[Face] = []
    for f in found:
        if all(_iou(f.bbox, k.bbox) <= iou_thr for k in kept):
            kept.append(f)
    return kept


def detect_multiscale(detector: BaseFaceDetector, img: np.ndarray,
                      levels: int = 2):
    """Detect faces; when none is found on an image the detector shrinks
    (larger than its working side, e.g. 640 px), search again on tiles.

    A face of 500 px in a 7900 px photo is ~40 px on the 640 px copy the
    default detector searches, too small for it. Level ``k`` (1, 2, ...)
    uses tiles of ``longer side / 2**k`` (each shrunk to the working side
    again, so faces appear ``2**k`` times larger), down to tiles of the
    working side; the first level that finds a face wins.

    Args:
        detector (BaseFaceDetector): The detector.
        img (np.ndarray): BGR uint8 image.
        levels (int): Tile levels to try at most. Defaults to 2 (tiles of
            1/2 and 1/4 of the longer side: 9 and 49 windows).

    Returns:
        tuple: ``(faces, tile)``: the faces (sorted by score) and the tile
        side that found them (None for the plain whole-image search).
    """
    faces = detector.detect(img)
    work = detector_work_side(detector)
    longer = max(img.shape[:2])
    if faces or not work or longer <= work:
        return faces, None
    for k in range(1, levels + 1):
        tile = int(np.ceil(longer / 2**k))
        if tile < work:
            break
        faces = detect_tiled(detector, img, tile)
        if faces:
            return faces, tile
    return [], None
