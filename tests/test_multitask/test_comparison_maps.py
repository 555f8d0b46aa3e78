"""SSIM and pixel-difference map sources against direct references."""
import numpy as np
import pytest
from scipy.ndimage import uniform_filter

from mmfocus.maps import pixel_diff_map, ssim_map


def _pair(seed=0, size=24):
    rng = np.random.default_rng(seed)
    real = rng.integers(0, 256, (size, size, 3)).astype(np.uint8)
    fake = real.copy()
    # a manipulated square: new content there only
    fake[6:14, 8:18] = rng.integers(0, 256, (8, 10, 3))
    return fake, real


def _ssim_reference(x, y, data_range=255., win=7):
    """Wang et al. (2004) SSIM with a uniform window and sample
    covariances, written out with scipy filters (per channel)."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    n = win * win
    cov = n / (n - 1)
    mx, my = uniform_filter(x, win), uniform_filter(y, win)
    vx = cov * (uniform_filter(x * x, win) - mx * mx)
    vy = cov * (uniform_filter(y * y, win) - my * my)
    vxy = cov * (uniform_filter(x * y, win) - mx * my)
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    return ((2 * mx * my + c1) * (2 * vxy + c2)) / \
        ((mx**2 + my**2 + c1) * (vx + vy + c2))


def test_ssim_map_equals_one_minus_ssim():
    from skimage.metrics import structural_similarity
    fake, real = _pair()
    got = ssim_map(fake, real)
    assert got.shape == (24, 24) and got.dtype == np.float32
    _, full = structural_similarity(fake,
                                    real,
                                    channel_axis=-1,
                                    data_range=255,
                                    full=True)
    np.testing.assert_allclose(got,
                               np.clip(1 - full.mean(-1), 0, 1),
                               atol=1e-6)
    ref = np.mean(
        [_ssim_reference(fake[..., c], real[..., c]) for c in range(3)], 0)
    np.testing.assert_allclose(got, np.clip(1 - ref, 0, 1), atol=1e-5)
    # high inside the manipulated square, zero far from it
    assert got[8:12, 10:16].mean() > 0.5
    assert np.abs(got[20:, :4]).max() < 1e-6
    assert ssim_map(real, real).max() < 1e-6


def test_ssim_map_grayscale():
    fake, real = _pair(1)
    got = ssim_map(fake[..., 0], real[..., 0])
    ref = _ssim_reference(fake[..., 0], real[..., 0])
    np.testing.assert_allclose(got, np.clip(1 - ref, 0, 1), atol=1e-5)


def test_pixel_diff_map_by_hand():
    real = np.zeros((2, 3, 3), np.uint8)
    fake = real.copy()
    fake[0, 0] = (255, 255, 255)  # diff 1
    fake[0, 1] = (51, 0, 0)  # mean |d| = 17 -> 17/255 = 0.0667
    fake[1, 2] = (90, 0, 0)  # 30/255 = 0.1176
    expect = np.array([[1, 17 / 255, 0], [0, 0, 30 / 255]], np.float32)
    np.testing.assert_allclose(pixel_diff_map(fake, real), expect, atol=1e-6)
    np.testing.assert_array_equal(pixel_diff_map(fake, real, thr=0.1),
                                  np.array([[1, 0, 0], [0, 0, 1]], np.float32))
    # symmetric in its arguments; uint8 does not wrap around
    np.testing.assert_allclose(pixel_diff_map(real, fake), expect, atol=1e-6)


def test_pixel_diff_matches_numpy_on_random_images():
    fake, real = _pair(2)
    ref = np.abs(fake.astype(np.float64) - real).mean(-1) / 255
    np.testing.assert_allclose(pixel_diff_map(fake, real), ref, atol=1e-6)


@pytest.mark.parametrize('fn', [ssim_map, pixel_diff_map])
def test_shape_mismatch_is_an_error(fn):
    fake, real = _pair()
    with pytest.raises(ValueError, match='differ in shape'):
        fn(fake, real[:-1])
