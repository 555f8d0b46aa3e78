import cv2
import numpy as np
import pytest

from mmfocus.faces.detectors import (DlibDetector, Face, RetinaFaceDetector,
                                     build_face_detector,
                                     dlib_shape_predictor_path)
from mmfocus.registry import FACE_DETECTORS


def _iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


def _haar(img, name, min_neighbors=5):
    """OpenCV's Haar cascades: an independent reference detector."""
    casc = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return [(x, y, x + w, y + h)
            for x, y, w, h in casc.detectMultiScale(gray, 1.1, min_neighbors)]


def _inside(pt, box):
    return box[0] <= pt[0] <= box[2] and box[1] <= pt[1] <= box[3]


def _check_face_against_haar(img, face):
    assert isinstance(face, Face)
    assert face.bbox.shape == (4, ) and face.bbox.dtype == np.float32
    assert face.landmarks.shape == (68, 2)
    assert face.landmarks.dtype == np.float32
    haar_faces = _haar(img, 'haarcascade_frontalface_default.xml')
    assert max(_iou(face.bbox, b) for b in haar_faces) > 0.5
    # eye centres of the 68-point layout fall inside Haar eye detections
    eyes = _haar(img, 'haarcascade_eye.xml')
    for idx in (slice(36, 42), slice(42, 48)):
        centre = face.landmarks[idx].mean(0)
        assert any(_inside(centre, e) for e in eyes), (centre, eyes)
    # anatomy: eyes above nose tip above mouth, chin lowest
    lm = face.landmarks
    assert lm[36:48, 1].mean() < lm[30, 1] < lm[48:68, 1].mean() < lm[8, 1]


def test_dlib_finds_astronaut(dlib_detector, astronaut_bgr):
    faces = dlib_detector.detect(astronaut_bgr)
    assert faces and faces[0].score > 0.5
    assert [f.score for f in faces] == sorted(
        [f.score for f in faces], reverse=True)
    _check_face_against_haar(astronaut_bgr, faces[0])


def test_dlib_finds_chip(dlib_detector, chip_path):
    img = cv2.imread(chip_path)
    assert img is not None, chip_path
    faces = dlib_detector.detect(img)
    assert len(faces) == 1
    _check_face_against_haar(img, faces[0])


def test_dlib_max_side_rescales(dlib_detector, astronaut_bgr):
    full = dlib_detector.detect(astronaut_bgr)[0]
    small = DlibDetector(max_side=256)
    face = small.detect(astronaut_bgr)[0]
    # box found at half resolution, reported in full-res pixels
    assert _iou(face.bbox, full.bbox) > 0.6
    assert np.abs(face.landmarks - full.landmarks).mean() < 6


def test_no_face_and_bad_input(dlib_detector):
    assert dlib_detector.detect(np.full((64, 64, 3), 127, np.uint8)) == []
    with pytest.raises(TypeError, match='uint8'):
        dlib_detector.detect(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError, match='shape'):
        dlib_detector.detect(np.zeros((64, 64, 4), np.uint8))


def test_predictor_path_and_registry():
    assert dlib_shape_predictor_path(68).endswith(
        'shape_predictor_68_face_landmarks.dat')
    with pytest.raises(ValueError, match='landmarks'):
        dlib_shape_predictor_path(7)
    with pytest.raises(FileNotFoundError, match='nowhere.dat'):
        DlibDetector(predictor_path='/nowhere.dat')
    assert FACE_DETECTORS.get('DlibDetector') is DlibDetector
    det = build_face_detector(dict(type='DlibDetector', landmarks=0))
    assert isinstance(det, DlibDetector) and det.landmarks == 0
    assert build_face_detector(det) is det
    assert 'DlibDetector(upsample=1' in repr(det)
    with pytest.raises(TypeError, match='type'):
        build_face_detector(dict(upsample=1))


def test_retinaface_clear_errors(tmp_path):
    missing = str(tmp_path / 'det_10g.onnx')
    with pytest.raises(FileNotFoundError, match='det_10g.onnx'):
        RetinaFaceDetector(weights=missing)
    weights = tmp_path / 'fake.onnx'
    weights.write_bytes(b'not a model')
    import importlib.util
    if importlib.util.find_spec('insightface') is None:
        with pytest.raises(ImportError, match='insightface'):
            RetinaFaceDetector(weights=str(weights))
