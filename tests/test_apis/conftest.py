"""Shared fixtures of the inference tests: the tiny FoCus config with
random weights saved to a checkpoint, one inferencer, a face photo, and a
short face video written with cv2.VideoWriter."""
import os.path as osp

import cv2
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
PHOTO = osp.join(ROOT, 'demo', 'faces', 'photos', '2008_001009.jpg')


@pytest.fixture(scope='session')
def tiny_ckpt(random_checkpoint):
    """A checkpoint (runner layout: ``state_dict`` key) of the tiny FoCus
    with random weights."""
    return random_checkpoint(TINY_CFG)


@pytest.fixture(scope='session')
def inferencer(tiny_ckpt):
    pytest.importorskip('dlib')
    from mmfocus.apis import FocusInferencer
    return FocusInferencer(TINY_CFG, tiny_ckpt, show_progress=False)


@pytest.fixture(scope='session')
def face_video(tmp_path_factory):
    """8 frames of 112 px: one face from a shipped photo, moving 1 px per
    frame."""
    pytest.importorskip('dlib')
    from mmfocus.faces import DlibDetector, crop_face
    img = cv2.imread(PHOTO)
    face = DlibDetector().detect(img)[0]
    crop, _, _ = crop_face(img, face.landmarks, margin=2.2, size=112)
    path = str(tmp_path_factory.mktemp('video') / 'face.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 8,
                             (112, 112))
    assert writer.isOpened()
    for i in range(8):
        shift = np.float32([[1, 0, i - 4], [0, 1, 0]])
        writer.write(cv2.warpAffine(crop, shift, (112, 112),
                                    borderMode=cv2.BORDER_REPLICATE))
    writer.release()
    return path
