import os.path as osp

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CHIP = osp.join(ROOT, 'demo', 'faces', 'chips', 'John_Simm',
                '000288_00470387.jpg')


@pytest.fixture(scope='session')
def chip_path():
    return CHIP


@pytest.fixture(scope='session')
def dlib_detector():
    pytest.importorskip('dlib')
    from mmfocus.faces.detectors import DlibDetector
    return DlibDetector(upsample=1, landmarks=68)


@pytest.fixture(scope='session')
def astronaut_bgr():
    data = pytest.importorskip('skimage.data')
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


@pytest.fixture(scope='session')
def astronaut_face(dlib_detector, astronaut_bgr):
    """(224 px crop, its 68 landmarks) of the astronaut's face."""
    from mmfocus.faces.align import crop_face
    face = dlib_detector.detect(astronaut_bgr)[0]
    crop, lmk, _ = crop_face(astronaut_bgr, face.landmarks, size=224)
    return crop, lmk
