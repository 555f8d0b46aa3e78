# Copyright (c) mmfocus contributors.
"""CPU modality transforms: references and agreement with the tensor ops."""
import copy

import cv2
import numpy as np
import pytest
import scipy.fft
import scipy.ndimage
import torch

from mmfocus.datasets.transforms.modality import DCT, SRM, Sobel
from mmfocus.models.data_preprocessors.modality_filters import (ModalityFilter, block_dct, dct2,
                                           sobel, srm)
from mmfocus.registry import TRANSFORMS


def _img(h=32, w=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _tensor_hwc(fn, img, dtype=torch.float32, **kwargs):
    """Run a tensor op on one HxWxC image and return HxWxC numpy."""
    x = torch.from_numpy(img.transpose(2, 0, 1).copy()).unsqueeze(0)
    x = x.to(dtype)
    return fn(x, **kwargs)[0].permute(1, 2, 0).double().numpy()


def _rel_err(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)


@pytest.mark.parametrize('mode', ['x', 'y', 'magnitude'])
def test_sobel_transform(mode):
    img = _img()
    results = Sobel(mode=mode)(dict(img=img.copy()))
    out = results['img_sobel']
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_array_equal(results['img'], img)  # input untouched
    f = img.astype(np.float32)
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3).astype(np.float64)
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3).astype(np.float64)
    ref = dict(x=gx, y=gy, magnitude=np.sqrt(gx**2 + gy**2 + 1e-6))[mode]
    assert _rel_err(out, ref) < 1e-6
    # Same as the tensor op.
    assert _rel_err(out, _tensor_hwc(sobel, img, mode=mode)) < 1e-4


@pytest.mark.parametrize('block', [None, 8])
def test_dct_transform(block):
    img = _img()
    out = DCT(block=block)(dict(img=img))['img_dct']
    assert out.dtype == np.float32 and out.shape == img.shape
    a = img.astype(np.float64)
    if block is None:
        d = scipy.fft.dctn(a, type=2, norm='ortho', axes=(0, 1))
        tensor = _tensor_hwc(dct2, img, torch.float64)
    else:
        d = np.empty_like(a)
        for i in range(0, 32, 8):
            for j in range(0, 40, 8):
                d[i:i + 8, j:j + 8] = scipy.fft.dctn(
                    a[i:i + 8, j:j + 8], type=2, norm='ortho', axes=(0, 1))
        tensor = _tensor_hwc(block_dct, img, torch.float64, log=True)
    ref = np.log(np.abs(d) + 1e-6)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    # The tensor op agrees (float64 on both sides of the log: float32
    # rounding of a coefficient near 0 is large in log space).
    np.testing.assert_allclose(tensor, ref, rtol=1e-9, atol=1e-9)
    # In float32 it agrees wherever the coefficient is not tiny.
    t32 = _tensor_hwc(dct2 if block is None else block_dct, img, log=True)
    big = np.abs(d) > 1
    np.testing.assert_allclose(t32[big], out[big], atol=2e-3)
    # Raw coefficients invert back to the image with scipy.
    raw = DCT(block=block, log=False)(dict(img=img))['img_dct']
    if block is None:
        back = scipy.fft.idctn(
            raw.astype(np.float64), type=2, norm='ortho', axes=(0, 1))
        np.testing.assert_allclose(back, a, atol=1e-2)
    with pytest.raises(ValueError, match='divisible'):
        DCT(block=8)(dict(img=_img(30, 40)))


@pytest.mark.parametrize('reduce', ['sum', 'none'])
def test_srm_transform(reduce):
    img = _img(24, 28)
    out = SRM(reduce=reduce)(dict(img=img))['img_srm']
    nch = 3 if reduce == 'sum' else 9
    assert out.dtype == np.float32 and out.shape == (24, 28, nch)
    tensor = _tensor_hwc(srm, img, reduce=reduce)
    np.testing.assert_allclose(out, tensor, atol=1e-3)
    # Independent reference: scipy correlate with reflect-101 ('mirror').
    k2 = np.array([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2],
                   [2, -6, 8, -6, 2], [-1, 2, -2, 2, -1]]) / 12.0
    a = img.astype(np.float64)
    refs = [
        scipy.ndimage.correlate(a[..., c], k2, mode='mirror') for c in range(3)
    ]
    if reduce == 'sum':
        np.testing.assert_allclose(out[..., 1], sum(refs), atol=1e-3)
    else:
        np.testing.assert_allclose(out[..., 4], refs[1], atol=1e-3)
    trunc = SRM(reduce=reduce, truncate=3)(dict(img=img))['img_srm']
    np.testing.assert_allclose(trunc, np.clip(out, -3, 3), atol=1e-6)


def test_normalize_matches_modality_filter():
    img = _img(32, 32, seed=7)
    # float64 so that the comparison is not limited by float32 DCT rounding
    # of near-zero coefficients (amplified by the log).
    x = torch.from_numpy(img.transpose(2, 0, 1).copy()).unsqueeze(0).double()
    pairs = [(Sobel(normalize=True), 'img_sobel', 'sobel'),
             (DCT(normalize=True), 'img_dct', 'dct'),
             (SRM(normalize=True), 'img_srm', 'srm')]
    for t, key, modality in pairs:
        out = t(dict(img=img))[key]
        ref = ModalityFilter(modality)(x)[0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(out, ref, atol=1e-4, err_msg=modality)
        np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-4)
        np.testing.assert_allclose(out.std(axis=(0, 1)), 1, atol=1e-4)


def test_options_keys_repr_and_registry():
    img = _img()
    out = Sobel(scale=0.5, in_key='face', out_key='s')(dict(face=img))['s']
    full = Sobel()(dict(img=img))['img_sobel']
    np.testing.assert_allclose(out, full * 0.5, rtol=1e-6)
    with pytest.raises(KeyError, match="'img'"):
        Sobel()(dict(other=img))
    gray = Sobel(mode='x')(dict(img=img[..., 0]))['img_sobel']
    assert gray.shape == img.shape[:2]
    for t in (Sobel(mode='y', ksize=5), DCT(block=8,
                                            log=False), SRM(truncate=3.0)):
        built = TRANSFORMS.build(
            eval('dict(type=type(t).__name__, ' +
                 repr(t).split('(', 1)[1][:-1] + ')'))
        assert repr(built) == repr(t)
        a = t(dict(img=img))
        b = built(copy.deepcopy(dict(img=img)))
        key = next(k for k in a if k != 'img')
        np.testing.assert_array_equal(a[key], b[key])
    assert "mode='y'" in repr(Sobel(mode='y'))
    with pytest.raises(ValueError):
        Sobel(mode='z')
    with pytest.raises(ValueError):
        SRM(reduce='mean')
    with pytest.raises(ValueError):
        DCT(norm='forward')
