import cv2
import numpy as np
import pytest

from mmfocus.faces.align import crop_face, square_box


def _points(rng, n=68, lo=(60, 80), hi=(140, 190)):
    return rng.uniform(lo, hi, size=(n, 2)).astype(np.float32)


@pytest.mark.parametrize('size,margin', [(224, 1.3), (112, 1.0), (64, 2.0)])
def test_crop_matches_cv2(size, margin):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (240, 200, 3), dtype=np.uint8)
    pts = _points(rng)
    crop, lmk, affine = crop_face(img, pts, margin=margin, size=size,
                                  antialias=False)
    assert crop.shape == (size, size, 3) and crop.dtype == np.uint8
    ref = cv2.warpAffine(img, affine, (size, size), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    np.testing.assert_array_equal(crop, ref)
    ref_pts = cv2.transform(pts[None].astype(np.float64), affine)[0]
    np.testing.assert_allclose(lmk, ref_pts, atol=1e-3)
    # square centred on the landmark box, side = margin * max extent
    ext = lmk.max(0) - lmk.min(0)
    assert np.isclose(ext.max(), size / margin, rtol=1e-4)
    centre = (lmk.max(0) + lmk.min(0)) / 2
    np.testing.assert_allclose(centre, [(size - 1) / 2] * 2, atol=1e-3)


def test_landmark_follows_image_content():
    """A bright dot at a landmark ends up at the transformed landmark."""
    img = np.zeros((300, 300), np.uint8)
    pts = np.array([[100, 120], [180, 200], [140, 150]], np.float32)
    cv2.circle(img, (140, 150), 3, 255, -1)
    crop, lmk, _ = crop_face(img, pts, margin=1.5, size=240)
    peak = np.argwhere(crop == crop.max()).mean(0)[::-1]  # (x, y)
    np.testing.assert_allclose(peak, lmk[2], atol=1.0)


def test_border_replicate_outside_image():
    img = np.zeros((100, 100, 3), np.uint8)
    img[:, 0] = (10, 20, 30)  # left column
    img[0, :] = (40, 50, 60)  # top row
    pts = np.array([[0, 30], [20, 60]], np.float32)  # face at left edge
    crop, _, affine = crop_face(img, pts, margin=2.0, size=64)
    # pixels left of the image repeat the left column
    inv = cv2.invertAffineTransform(affine)
    x_img = inv[0, 0] * np.arange(64) + inv[0, 2]
    col = int(np.argmax(x_img > -1)) - 2  # a column fully left of x=-1
    assert col >= 0
    assert (crop[20:40, col] == (10, 20, 30)).all()


def test_bbox_input_and_antialias():
    # 1-px checkerboard: shrinking it 4x without a prefilter aliases
    yy, xx = np.mgrid[:400, :400]
    img = (((xx + yy) % 2) * 255).astype(np.uint8)
    crop_aa, lmk, _ = crop_face(img, bbox=[0, 0, 400, 400], margin=1.0,
                                size=117)
    crop_raw, _, _ = crop_face(img, bbox=[0, 0, 400, 400], margin=1.0,
                               size=117, antialias=False)
    assert lmk is None
    assert crop_aa[10:-10, 10:-10].std() < 5
    assert abs(crop_aa[10:-10, 10:-10].mean() - 127.5) < 5
    assert crop_raw.std() > 5 * crop_aa[10:-10, 10:-10].std()


def test_square_box_and_errors():
    x0, y0, side = square_box(bbox=[10, 20, 50, 40], margin=1.5)
    assert (x0, y0, side) == (-0.0, 0.0, 60.0)
    with pytest.raises(ValueError, match='landmarks or bbox'):
        crop_face(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match='finite'):
        crop_face(np.zeros((10, 10), np.uint8),
                  np.array([[np.nan, 1.0]]))
