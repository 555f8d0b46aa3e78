"""DeeperForensics-1.0 perturbations, level by level, against their
definitions computed here (BT.601 luma, cv2 blur / resize, pixel counts)."""
import shutil
import warnings

import cv2
import numpy as np
import pytest

import mmfocus.datasets.transforms.perturbations as P

Perturb = P.DeeperForensicsPerturbation
LEVELS = [1, 2, 3, 4, 5]


def _apply(kind, level, img, **kw):
    return Perturb(kind, level, **kw)(dict(img=img.copy(),
                                           img_path='x.png'))['img']


def _luma(bgr):
    bgr = bgr.astype(np.float64)
    return 0.114 * bgr[..., 0] + 0.587 * bgr[..., 1] + 0.299 * bgr[..., 2]


def test_published_parameters():
    # DeeperForensics-1.0 add_distortion_to_video.py, as in method.md
    assert P.PERTURBATION_PARAMS == {
        'saturation': (0.4, 0.3, 0.2, 0.1, 0.0),
        'contrast': (0.85, 0.725, 0.6, 0.475, 0.35),
        'block': (16, 32, 48, 64, 80),
        'noise': (0.001, 0.002, 0.005, 0.01, 0.05),
        'blur': (7, 9, 13, 17, 21),
        'pixelation': (2, 3, 4, 5, 6),
        'compression': (30, 32, 35, 38, 40)}


@pytest.mark.parametrize('level', LEVELS)
def test_saturation_scales_chroma_about_luma(level):
    s = P.PERTURBATION_PARAMS['saturation'][level - 1]
    colours = np.array([[40, 90, 200], [200, 30, 60], [10, 220, 120],
                        [128, 128, 128]], np.uint8)
    img = np.repeat(colours[None], 8, axis=0)  # 8 x 4 x 3 BGR
    out = _apply('saturation', level, img).astype(np.float64)
    y = _luma(img)[..., None]
    # scaling Cb, Cr by s keeps Y and moves RGB to y + s * (c - y)
    want = y + s * (img.astype(np.float64) - y)
    assert np.abs(out - want).max() <= 1.5
    assert np.abs(_luma(out) - y[..., 0]).max() <= 1.5
    if s == 0:
        assert (out.max(-1) - out.min(-1)).max() <= 1  # grey


@pytest.mark.parametrize('level', LEVELS)
def test_contrast_multiplies_pixels(level):
    c = P.PERTURBATION_PARAMS['contrast'][level - 1]
    img = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, -1)
    out = _apply('contrast', level, img).astype(np.float64)
    want = img.astype(np.float64) * c
    # truncated to uint8, as the original's astype(np.uint8)
    assert np.all(out <= want + 1e-3) and np.all(out > want - 1)


class _GridRNG:
    """Places block b at x = 8 * (b % 31), y = 8 * (b // 31): disjoint."""

    def __init__(self):
        self.calls = 0

    def randint(self, low, high):
        b, is_y = divmod(self.calls, 2)
        self.calls += 1
        v = 8 * (b // 31 if is_y else b % 31)
        assert low <= v < high  # numpy: high exclusive; x, then y
        return v


@pytest.mark.parametrize('level', LEVELS)
def test_block_count_and_size_on_256px(level):
    n = P.PERTURBATION_PARAMS['block'][level - 1]
    img = np.full((256, 256, 3), 255, np.uint8)
    out = P.block_wise(img, n, _GridRNG())
    grey = np.all(out == 128, axis=-1)
    assert np.all(out[~grey] == 255)
    assert grey.sum() == n * 64  # n disjoint 8 x 8 blocks
    # 8 px blocks on the 8 px grid: whole grid cells, all grey or none
    cells = grey.reshape(32, 8, 32, 8).mean(axis=(1, 3))
    assert set(np.unique(cells)) <= {0.0, 1.0} and cells.sum() == n

    # the transform itself: random 8 x 8 grey blocks, at most n of them
    out = _apply('block', level, img, seed=0)
    grey = np.all(out == 128, axis=-1)
    assert 64 <= grey.sum() <= n * 64
    assert np.all(out[~grey] == 255)
    # each grey pixel lies in a fully grey 8 x 8 square
    box = cv2.erode(grey.astype(np.uint8), np.ones((8, 8), np.uint8),
                    anchor=(0, 0), borderType=cv2.BORDER_CONSTANT,
                    borderValue=0)
    cover = cv2.dilate(box, np.ones((8, 8), np.uint8), anchor=(7, 7))
    assert np.array_equal(cover.astype(bool), grey)


def test_block_count_scales_with_size():
    assert P.num_blocks(16, 256, 256) == 16
    assert P.num_blocks(16, 512, 600) == 32
    assert P.num_blocks(80, 224, 224) == 70  # round(80 * 224 / 256)
    assert P.num_blocks(16, 16, 16) == 1


@pytest.mark.parametrize('level', [1, 2, 3, 4])
def test_noise_variance_on_flat_grey(level):
    var = P.PERTURBATION_PARAMS['noise'][level - 1]
    img = np.full((160, 160, 3), 128, np.uint8)
    out = _apply('noise', level, img, seed=1)
    # variance `var` on the [0, 1] studio-range Y (219 levels), i.e.
    # var * (255 / 219)^2 on full-range luma in [0, 1]
    got = np.var(_luma(out) / 255.0)
    want = var * (255.0 / 219.0) ** 2
    assert abs(got - want) / want < 0.1
    if level <= 2:  # and on Cb (224 levels): B - Y = (Cb - 1/2) / 0.564
        bmy = (out[..., 0].astype(np.float64) - _luma(out)) / 255.0
        want_c = var * (255.0 / 224.0 / 0.564) ** 2
        assert abs(np.var(bmy) - want_c) / want_c < 0.1


def test_noise_level5_strongest():
    img = np.full((96, 96, 3), 128, np.uint8)
    v = [np.var(_luma(_apply('noise', lv, img, seed=2))) for lv in LEVELS]
    assert all(a < b for a, b in zip(v, v[1:]))


@pytest.mark.parametrize('level', LEVELS)
def test_blur_is_cv2_gaussian(level):
    k = P.PERTURBATION_PARAMS['blur'][level - 1]
    img = np.random.RandomState(level).randint(0, 256, (48, 40, 3)).astype(
        np.uint8)
    assert np.array_equal(_apply('blur', level, img),
                          cv2.GaussianBlur(img, (k, k), k / 6.0))


@pytest.mark.parametrize('level', LEVELS)
def test_pixelation_is_bilinear_down_up(level):
    f = P.PERTURBATION_PARAMS['pixelation'][level - 1]
    img = np.random.RandomState(level).randint(0, 256, (90, 100, 3)).astype(
        np.uint8)
    small = cv2.resize(img, (100 // f, 90 // f),
                       interpolation=cv2.INTER_LINEAR)
    want = cv2.resize(small, (100, 90), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(_apply('pixelation', level, img), want)


def _face_like(h=64, w=66):
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 3 % 256, yy * 4 % 256, (xx + yy) * 2 % 256], -1)
    img = img.astype(np.uint8)
    img[::7] = 30
    return img


@pytest.mark.parametrize('level', LEVELS)
def test_compression_jpeg_changes_image_keeps_shape(level):
    img = _face_like()
    out = _apply('compression', level, img, compression_backend='jpeg')
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img).mean() > 1
    q = P.CRF_TO_JPEG_QUALITY[P.PERTURBATION_PARAMS['compression'][level - 1]]
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, q])
    assert np.array_equal(out, cv2.imdecode(buf, cv2.IMREAD_COLOR))


def test_compression_backend_selection(monkeypatch):
    monkeypatch.setattr(P, '_have_pyav', lambda: False)
    monkeypatch.setattr(P.shutil, 'which', lambda name: None)
    with pytest.warns(UserWarning, match='JPEG quality 40'):
        t = Perturb('compression', 1)
    assert t.backend == 'jpeg'
    out = t(dict(img=_face_like()))
    assert out['perturbation'] == dict(kind='compression', level=1,
                                       param=30, backend='jpeg')
    with pytest.raises(RuntimeError, match='ffmpeg'):
        Perturb('compression', 1, compression_backend='ffmpeg')
    with pytest.raises(RuntimeError, match='PyAV'):
        Perturb('compression', 1, compression_backend='pyav')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert Perturb('compression', 2,
                       compression_backend='jpeg').backend == 'jpeg'


def _demo_face(size=(66, 63)):
    import os
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    chips = osp.join(root, 'demo', 'faces', 'chips', 'John_Simm')
    img = cv2.imread(osp.join(chips, sorted(os.listdir(chips))[0]))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _psnr(a, b):
    from skimage.metrics import peak_signal_noise_ratio
    return peak_signal_noise_ratio(a, b, data_range=255)


_HAVE = dict(pyav=P._have_pyav(), ffmpeg=shutil.which('ffmpeg') is not None)


@pytest.mark.parametrize('backend', ['pyav', 'ffmpeg'])
def test_compression_h264(backend):
    if not _HAVE[backend]:
        pytest.skip(f'no {backend} with libx264 here')
    img = _demo_face()  # a real face, odd sizes (padded for yuv420p)
    psnr = []
    for level in LEVELS:
        out = _apply('compression', level, img, compression_backend=backend)
        assert out.shape == img.shape and out.dtype == np.uint8
        # deterministic: the same image gives the same result
        again = _apply('compression', level, img,
                       compression_backend=backend)
        assert np.array_equal(out, again)
        psnr.append(_psnr(img, out))
    # a higher CRF quantises more coarsely: the error grows level by level
    assert all(a > b for a, b in zip(psnr, psnr[1:])), psnr
    # measured with PyAV 18 / libx264: 27.5 dB at CRF 30, 22.7 dB at CRF 40
    assert 20 < psnr[-1] < psnr[0] < 35
    # CRF 0 is lossless x264: only the yuv420p chroma subsampling is lost
    lossless = P.video_compression(P._pad_even(img), 0, backend)
    assert _psnr(P._pad_even(img), lossless) > max(psnr) + 5
    # a video codec, not the JPEG stand-in of the same level
    q = P.CRF_TO_JPEG_QUALITY[30]
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, q])
    jpeg = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    first = _apply('compression', 1, img, compression_backend=backend)
    assert not np.array_equal(first, jpeg)


@pytest.mark.skipif(not _HAVE['pyav'], reason='no PyAV with libx264')
def test_compression_auto_uses_pyav_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        t = Perturb('compression', 3)
    assert t.backend == 'pyav'
    out = t(dict(img=_demo_face((64, 64))))
    assert out['perturbation'] == dict(kind='compression', level=3,
                                       param=35, backend='pyav')


def test_seeded_per_image_and_registry():
    from mmfocus.registry import TRANSFORMS
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    img = np.full((32, 32, 3), 100, np.uint8)
    t = TRANSFORMS.build(dict(type='DeeperForensicsPerturbation',
                              kind='noise', level=3, seed=5))
    a = t(dict(img=img.copy(), img_path='a.png'))['img']
    b = t(dict(img=img.copy(), img_path='a.png'))['img']
    c = t(dict(img=img.copy(), img_path='b.png'))['img']
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 'kind=\'noise\'' in repr(t) and 'level=3' in repr(t)
    np.random.seed(3)
    d = _apply('block', 2, np.full((64, 64, 3), 255, np.uint8))
    np.random.seed(3)
    e = _apply('block', 2, np.full((64, 64, 3), 255, np.uint8))
    assert np.array_equal(d, e)  # seed=None: numpy's global state


@pytest.mark.parametrize('kw', [dict(kind='jpeg', level=1),
                                dict(kind='blur', level=0),
                                dict(kind='blur', level=6),
                                dict(kind='blur', level=2.5)])
def test_bad_arguments(kw):
    with pytest.raises(ValueError):
        Perturb(**kw)


def test_bad_image():
    with pytest.raises(ValueError, match='BGR uint8'):
        Perturb('blur', 1)(dict(img=np.zeros((8, 8), np.uint8)))
