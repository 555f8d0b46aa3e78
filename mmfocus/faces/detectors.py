# Copyright (c) mmfocus contributors.
"""Face detector backends behind one interface.

Every backend takes a BGR ``uint8`` image (the cv2 / mmcv convention) and
returns a list of :class:`Face` records in image pixel coordinates. Backends
are registered in :data:`mmfocus.registry.FACE_DETECTORS` and can be built
from a config dict with :func:`build_face_detector` or constructed directly.

Two backends:

- :class:`DlibDetector`: dlib's HOG detector plus the 68-point shape
  predictor shipped inside the ``face_recognition_models`` package. Fully
  offline, CPU only, ~40 ms per 256 px image. Used for the demo data.
- :class:`RetinaFaceDetector`: RetinaFace (what the FoCus paper uses) through
  the optional ``insightface`` + ``onnxruntime`` packages, loading a local
  ONNX weight file only (nothing is downloaded).

Licence note: the 68-point landmark model was trained on iBUG 300-W, whose
licence excludes commercial use.
"""
import importlib.util
import os.path as osp
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Union

import cv2
import numpy as np

from mmfocus.registry import FACE_DETECTORS

_DLIB_MODEL_FILES = {
    68: 'shape_predictor_68_face_landmarks.dat',
    5: 'shape_predictor_5_face_landmarks.dat',
}


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

    def __call__(self, img: np.ndarray) -> List[Face]:
        return self.detect(img)


def _to_rgb_uint8(img: np.ndarray) -> np.ndarray:
    """BGR/grey image -> contiguous RGB uint8, the layout dlib expects."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise TypeError(f'expected a uint8 image, got dtype {img.dtype}')
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    else:
        raise ValueError(f'expected an (H, W, 3) or (H, W) image, got shape '
                         f'{img.shape}')
    return np.ascontiguousarray(img)


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
        h, w = rgb.shape[:2]
        scale = 1.0
        det_img = rgb
        if self.max_side and max(h, w) > self.max_side:
            scale = self.max_side / max(h, w)
            det_img = cv2.resize(
                rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                interpolation=cv2.INTER_AREA)
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
