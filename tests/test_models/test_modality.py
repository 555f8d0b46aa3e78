# Copyright (c) mmfocus contributors.
"""Modality tensor ops against OpenCV / SciPy references."""
import cv2
import numpy as np
import pytest
import scipy.fft
import scipy.ndimage
import torch

from mmfocus.models.data_preprocessors.modality_filters import _matmul
from mmfocus.models.data_preprocessors.modality_filters import (ModalityFilter, block_dct, dct2,
                                           dct_matrix, idct2, sobel,
                                           sobel_kernels, srm, srm_kernels,
                                           standardize)
from mmfocus.registry import MODELS

# Zhou, Han, Morariu, Davis, "Learning Rich Features for Image Manipulation
# Detection", CVPR 2018, Sec. 3.2 / Fig. 3 (kernels from Fridrich &
# Kodovsky, "Rich Models for Steganalysis of Digital Images", TIFS 2012),
# written out here from the paper, with their normalisations 1/4, 1/12, 1/2.
# yapf: disable
PAPER_SRM = [
    (np.array([[0, 0, 0, 0, 0],
               [0, -1, 2, -1, 0],
               [0, 2, -4, 2, 0],
               [0, -1, 2, -1, 0],
               [0, 0, 0, 0, 0]]), 4),
    (np.array([[-1, 2, -2, 2, -1],
               [2, -6, 8, -6, 2],
               [-2, 8, -12, 8, -2],
               [2, -6, 8, -6, 2],
               [-1, 2, -2, 2, -1]]), 12),
    (np.array([[0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0],
               [0, 1, -2, 1, 0],
               [0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0]]), 2),
]
# yapf: enable


def _rand_img(h=40, w=48, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, c), dtype=np.uint8)


def _to_batch(img, dtype=torch.float32):
    """HxWxC numpy -> (1, C, H, W) tensor."""
    return torch.from_numpy(np.ascontiguousarray(img.transpose(
        2, 0, 1))).unsqueeze(0).to(dtype)


def _to_hwc(t):
    return t[0].permute(1, 2, 0).double().numpy()


def _rel_err(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)


@pytest.mark.parametrize('ksize', [1, 3, 5, 7])
def test_sobel_matches_cv2(ksize):
    img = _rand_img().astype(np.float32)
    x = _to_batch(img)
    gx_ref = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=ksize).astype(np.float64)
    gy_ref = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=ksize).astype(np.float64)
    gx = _to_hwc(sobel(x, mode='x', ksize=ksize))
    gy = _to_hwc(sobel(x, mode='y', ksize=ksize))
    mag = _to_hwc(sobel(x, mode='magnitude', ksize=ksize))
    assert _rel_err(gx, gx_ref) < 1e-4
    assert _rel_err(gy, gy_ref) < 1e-4
    mag_ref = np.sqrt(gx_ref**2 + gy_ref**2 + 1e-6)
    assert _rel_err(mag, mag_ref) < 1e-4
    # Not trivially zero, and x really differs from y.
    assert np.abs(gx_ref).max() > 100
    assert _rel_err(gx, gy_ref) > 0.1


def test_sobel_kernel_and_border():
    k = sobel_kernels(3)
    np.testing.assert_array_equal(k[0].numpy(),
                                  [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(k[1].numpy(), k[0].numpy().T)
    # The border really is reflect-101: zero padding would differ at edges.
    img = _rand_img(16, 16, 1, seed=3).astype(np.float32)
    x = _to_batch(img)
    ref = cv2.Sobel(img[..., 0], cv2.CV_32F, 1, 0, ksize=3)
    ref_const = cv2.Sobel(
        img[..., 0], cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_CONSTANT)
    out = sobel(x, mode='x')[0, 0].numpy()
    np.testing.assert_allclose(out, ref, atol=1e-3)
    assert np.abs(out - ref_const).max() > 1
    with pytest.raises(ValueError, match='mode'):
        sobel(x, mode='xy')
    with pytest.raises(ValueError, match='ksize'):
        sobel(x, ksize=4)
    with pytest.raises(ValueError, match='B, C, H, W'):
        sobel(x[0])


def test_sobel_batched_float64_and_uint8():
    imgs = [_rand_img(24, 20, 3, seed=s) for s in range(3)]
    x = torch.cat([_to_batch(i, torch.float64) for i in imgs])
    out = sobel(x, mode='x')
    assert out.dtype == torch.float64 and out.shape == x.shape
    for b, img in enumerate(imgs):
        ref = cv2.Sobel(img.astype(np.float32), cv2.CV_32F, 1, 0, ksize=3)
        np.testing.assert_allclose(
            out[b].permute(1, 2, 0).numpy(), ref, atol=1e-3)
    out8 = sobel(torch.cat([_to_batch(i, torch.uint8) for i in imgs]))
    assert out8.dtype == torch.float32


@pytest.mark.parametrize('norm', ['ortho', None])
@pytest.mark.parametrize('shape', [(32, 32), (24, 40), (17, 9)])
def test_dct2_matches_scipy(norm, shape):
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 255, size=(2, 3) + shape)
    ref = scipy.fft.dctn(a, type=2, norm=norm, axes=(-2, -1))
    out = dct2(torch.from_numpy(a), norm=norm, log=False).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-7)
    # float32 path.
    out32 = dct2(torch.from_numpy(a).float(), norm=norm, log=False)
    assert out32.dtype == torch.float32
    assert _rel_err(out32.double().numpy(), ref) < 1e-5
    # log=True is exactly log(|D| + 1e-6).
    out_log = dct2(torch.from_numpy(a), norm=norm).numpy()
    np.testing.assert_allclose(
        out_log, np.log(np.abs(ref) + 1e-6), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize('norm', ['ortho', None])
def test_dct2_inverse_with_scipy(norm):
    rng = np.random.default_rng(2)
    a = rng.uniform(0, 255, size=(1, 3, 20, 28))
    d = dct2(torch.from_numpy(a), norm=norm, log=False)
    back = scipy.fft.idctn(d.numpy(), type=2, norm=norm, axes=(-2, -1))
    np.testing.assert_allclose(back, a, atol=1e-8)
    np.testing.assert_allclose(idct2(d, norm=norm).numpy(), a, atol=1e-8)
    # The ortho matrix is orthogonal.
    c = dct_matrix(12, 'ortho', dtype=torch.float64)
    np.testing.assert_allclose((c @ c.T).numpy(), np.eye(12), atol=1e-12)


def test_compensated_matmul_is_float32_accurate():
    # The split used on accelerators (robust to TF32 / bf16 matmuls) must be
    # as accurate as a float32 matmul; check it on CPU against float64.
    rng = np.random.default_rng(6)
    a64 = torch.from_numpy(rng.uniform(0, 255, size=(2, 3, 40, 40)))
    c64 = dct_matrix(40, dtype=torch.float64)
    ref = c64 @ a64
    out = _matmul(c64.float(), a64.float(), compensate=True).double()
    plain = (c64.float() @ a64.float()).double()
    tol = max(2 * ((plain - ref).abs().max() / ref.abs().max()), 1e-7)
    assert ((out - ref).abs().max() / ref.abs().max()) < tol
    # A bf16-only product would be far off: the test can tell them apart.
    crude = (c64.bfloat16().float() @ a64.bfloat16().float()).double()
    assert ((crude - ref).abs().max() / ref.abs().max()) > 1e-4


@pytest.mark.parametrize('block', [8, 4])
def test_block_dct_matches_scipy_per_block(block):
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 255, size=(2, 3, 32, 48))
    out = block_dct(torch.from_numpy(a), block=block).numpy()
    for i in range(0, 32, block):
        for j in range(0, 48, block):
            tile = a[..., i:i + block, j:j + block]
            ref = scipy.fft.dctn(tile, type=2, norm='ortho', axes=(-2, -1))
            np.testing.assert_allclose(
                out[..., i:i + block, j:j + block], ref, atol=1e-8)
    # Inverse per block with scipy.
    tile = out[0, 1, 8:8 + block, 16:16 + block]
    np.testing.assert_allclose(
        scipy.fft.idctn(tile, type=2, norm='ortho'),
        a[0, 1, 8:8 + block, 16:16 + block],
        atol=1e-8)
    logd = block_dct(torch.from_numpy(a), block=block, log=True).numpy()
    np.testing.assert_allclose(logd, np.log(np.abs(out) + 1e-6), atol=1e-9)
    with pytest.raises(ValueError, match='divisible'):
        block_dct(torch.zeros(1, 3, 30, 32), block=8)


def test_srm_kernels_equal_paper():
    k = srm_kernels(dtype=torch.float64).numpy()
    assert k.shape == (3, 5, 5)
    for i, (ints, q) in enumerate(PAPER_SRM):
        np.testing.assert_array_equal(k[i] * q, ints)
        # High-pass: every kernel sums to zero.
        assert ints.sum() == 0


def test_srm_matches_scipy_correlate():
    img = _rand_img(24, 28, 3, seed=5).astype(np.float64)
    x = _to_batch(img, torch.float64)
    per = srm(x, reduce='none')[0].numpy()  # (9, H, W)
    summed = srm(x)[0].numpy()  # (3, H, W)
    assert per.shape == (9, 24, 28) and summed.shape == (3, 24, 28)
    for k, (ints, q) in enumerate(PAPER_SRM):
        kern = ints / q
        refs = [
            scipy.ndimage.correlate(img[..., c], kern, mode='mirror')
            for c in range(3)
        ]
        for c in range(3):
            np.testing.assert_allclose(per[3 * c + k], refs[c], atol=1e-9)
        np.testing.assert_allclose(summed[k], sum(refs), atol=1e-9)
    # Truncation clips to [-T, T] and leaves smaller values alone.
    trunc = srm(x, truncate=3.0)[0].numpy()
    np.testing.assert_allclose(trunc, np.clip(summed, -3, 3))
    assert np.abs(summed).max() > 3
    # A constant image has zero residual.
    assert srm(torch.full((1, 3, 8, 8), 77.0)).abs().max() < 1e-4


def test_modality_filter_shapes_and_normalisation():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 255
    for modality in ('sobel', 'dct', 'srm'):
        f = ModalityFilter(modality=modality)
        y = f(x)
        assert y.shape == x.shape and y.dtype == torch.float32
        mean = y.mean(dim=(-2, -1))
        std = y.std(dim=(-2, -1), unbiased=False)
        assert mean.abs().max() < 1e-4, modality
        assert (std - 1).abs().max() < 1e-3, modality
    # 'rgb' is the identity (even with normalize=True).
    assert torch.equal(ModalityFilter('rgb')(x), x)
    # Without normalisation it is the raw filter.
    raw = ModalityFilter('sobel', sobel_mode='x', normalize=False)(x)
    torch.testing.assert_close(raw, sobel(x, mode='x'))
    torch.testing.assert_close(ModalityFilter('dct')(x), standardize(dct2(x)))
    # Registry and plain-kwargs construction agree.
    f = MODELS.build(dict(type='ModalityFilter', modality='srm'))
    assert isinstance(f, ModalityFilter) and f.modality == 'srm'
    assert "modality='srm'" in repr(f)
    with pytest.raises(ValueError, match='modality'):
        ModalityFilter('hsv')
    with pytest.raises(ValueError, match='sobel_mode'):
        ModalityFilter('sobel', sobel_mode='diag')


def test_modality_filter_under_autocast_bf16():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 32, 32) * 255
    for modality in ('sobel', 'dct', 'srm'):
        f = ModalityFilter(modality)
        ref = f(x)
        with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
            y = f(x)
        assert y.shape == x.shape
        assert torch.isfinite(y).all()
        # The filter runs in float32 inside, so autocast changes nothing.
        torch.testing.assert_close(y, ref)
        # bf16 input comes back as bf16, close to the float32 result.
        yb = f(x.bfloat16())
        assert yb.dtype == torch.bfloat16
        assert (yb.float() - f(x.bfloat16().float())).abs().max() < 0.05


# ------------------------------------------------ fixed filter statistics
def test_fixed_normalisation_uses_the_given_statistics():
    x = torch.rand(2, 3, 16, 16) * 255
    mean, std = (10., 20., 30.), (2., 4., 8.)
    got = ModalityFilter('sobel', normalize='fixed', mean=mean, std=std)(x)
    raw = ModalityFilter('sobel', normalize=False)(x)
    want = (raw - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(
        std).view(3, 1, 1)
    torch.testing.assert_close(got, want)
    # a globally blurred face keeps its lower gradient energy, where
    # per-image standardisation rescales it back
    fixed = ModalityFilter('sobel', normalize='fixed', mean=0., std=1.)
    per_image = ModalityFilter('sobel')
    assert fixed(x * 0.5).abs().mean() < fixed(x).abs().mean()
    torch.testing.assert_close(per_image(x * 0.5), per_image(x),
                               atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match='needs mean and'):
        ModalityFilter('sobel', normalize='fixed')
    with pytest.raises(ValueError, match='needs mean and'):
        ModalityFilter('sobel', mean=(1., ), std=(1., ))
    with pytest.raises(ValueError, match='normalize must be'):
        ModalityFilter('sobel', normalize='dataset')
    with pytest.raises(ValueError, match='std > 0'):
        ModalityFilter('sobel', normalize='fixed', mean=0., std=0.)


def test_preprocessor_filter_cfg():
    from mmfocus.models.data_preprocessors import FoCusDataPreprocessor
    pre = FoCusDataPreprocessor(filter_cfg=dict(sobel=dict(
        normalize='fixed', mean=(1., 2., 3.), std=(4., 5., 6.))))
    assert pre.filters['sobel'].normalize == 'fixed'
    img = torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8)
    out = pre(dict(inputs=[img], data_samples=None))['inputs']
    want = ModalityFilter('sobel', normalize='fixed', mean=(1., 2., 3.),
                          std=(4., 5., 6.))(img.flip(0)[None].float())
    torch.testing.assert_close(out['sobel'], want)
    with pytest.raises(ValueError, match='not in'):
        FoCusDataPreprocessor(filter_cfg=dict(dct=dict(normalize=False)))


def test_filter_statistics_match_numpy():
    from mmfocus.analysis.modality_stats import filter_statistics
    gen = torch.Generator().manual_seed(0)
    batches = [torch.randint(0, 256, (b, 3, 12, 10), generator=gen).float()
               for b in (3, 2, 4)]
    res = filter_statistics(iter(batches), 'sobel', max_images=6)
    assert res['images'] == 6 and res['pixels'] == 6 * 12 * 10
    raw = ModalityFilter('sobel', normalize=False)(
        torch.cat(batches)[:6].double()).numpy()
    flat = raw.transpose(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(res['mean'], flat.mean(1), rtol=1e-10)
    np.testing.assert_allclose(res['std'], flat.std(1), rtol=1e-8)
    with pytest.raises(ValueError, match='no images'):
        filter_statistics(iter([]), 'sobel')
