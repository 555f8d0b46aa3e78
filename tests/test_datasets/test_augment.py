import cv2
import numpy as np

from mmfocus.datasets.transforms import (PhotometricJitter, RandomAffineFace,
                                         RandomJPEG)


def test_affine_moves_image_mask_and_landmarks_together():
    np.random.seed(0)
    img = np.zeros((64, 64, 3), np.uint8)
    cv2.circle(img, (20, 30), 4, (255, 255, 255), -1)
    mask = (img[..., 0] > 0).astype(np.float32)
    lm = np.array([[20., 30.]], np.float32)
    out = RandomAffineFace(max_rotate=20, scale=(0.8, 1.2), max_shift=0.1,
                           prob=1.0)(dict(img=img, gt_mask=mask,
                                          landmarks=lm))
    ys, xs = np.nonzero(out['img'][..., 0] > 127)
    centre = np.array([xs.mean(), ys.mean()])
    np.testing.assert_allclose(out['landmarks'][0], centre, atol=1.0)
    ys, xs = np.nonzero(out['gt_mask'] > 0.5)
    np.testing.assert_allclose([xs.mean(), ys.mean()], centre, atol=1.0)
    assert out['gt_mask'].min() >= 0 and out['gt_mask'].max() <= 1


def test_photometric_and_jpeg_leave_the_mask_alone():
    np.random.seed(1)
    img = np.random.randint(0, 256, (32, 32, 3), np.uint8)
    mask = np.random.rand(32, 32).astype(np.float32)
    out = PhotometricJitter(prob=1.0)(dict(img=img.copy(), gt_mask=mask))
    assert out['img'].dtype == np.uint8 and out['img'].shape == img.shape
    assert not np.array_equal(out['img'], img)
    assert out['gt_mask'] is mask
    out = RandomJPEG(quality=(50, 50), prob=1.0)(dict(img=img.copy()))
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 50])
    np.testing.assert_array_equal(out['img'],
                                  cv2.imdecode(buf, cv2.IMREAD_COLOR))
    assert 'prob=1.0' in repr(RandomJPEG(prob=1.0))
