# Copyright (c) mmfocus contributors.
"""Functional metrics against scikit-learn / scipy / cv2 / PIL references and
hand-computed answers."""
import numpy as np
import pytest
import torch
from scipy.interpolate import interp1d
from scipy.optimize import brentq
from sklearn.metrics import (average_precision_score, roc_auc_score, roc_curve)

from mmfocus.evaluation import functional as Fn


def _tied_data(seed, n=300):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    # rounded scores: many ties, inside and across classes
    scores = np.round(0.3 * labels + rng.random(n), 1)
    return scores, labels


@pytest.mark.parametrize('seed', range(5))
def test_auc_matches_sklearn_with_ties(seed):
    scores, labels = _tied_data(seed)
    assert len(np.unique(scores)) < 20  # really tied
    assert Fn.binary_auc(scores, labels) == pytest.approx(roc_auc_score(
        labels, scores),
                                                          abs=1e-12)
    # torch input and the float16 histogram path give the same number
    assert Fn.binary_auc(torch.from_numpy(scores),
                         labels) == pytest.approx(roc_auc_score(
                             labels, scores),
                                                  abs=1e-12)
    # float16 histogram path (> 65536 scores)
    s16 = np.tile(scores, 300).astype(np.float16)
    l16 = np.tile(labels, 300)
    assert Fn.binary_auc(s16, l16) == pytest.approx(roc_auc_score(
        l16, s16.astype(np.float64)),
                                                    abs=1e-12)


def test_auc_float16_signed_values_and_zero():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=70000).astype(np.float16)
    scores[:500] = -0.0
    scores[500:1000] = 0.0
    labels = rng.integers(0, 2, 70000)
    assert Fn.binary_auc(scores, labels) == pytest.approx(roc_auc_score(
        labels, scores.astype(np.float64)),
                                                          abs=1e-12)


def test_auc_edge_cases():
    assert np.isnan(Fn.binary_auc([0.1, 0.9], [1, 1]))
    assert Fn.binary_auc([0.1, 0.9], [0, 1]) == 1.0
    assert Fn.binary_auc([0.1, 0.9], [1, 0]) == 0.0
    assert Fn.binary_auc([0.5, 0.5], [1, 0]) == 0.5
    with pytest.raises(ValueError, match='length'):
        Fn.binary_auc([0.1, 0.2], [1])


@pytest.mark.parametrize('seed', range(5))
def test_average_precision_matches_sklearn(seed):
    scores, labels = _tied_data(seed)
    assert Fn.average_precision(scores, labels) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12)
    rng = np.random.default_rng(seed)
    cont = rng.random(200)
    lab = (cont + 0.5 * rng.random(200) > 0.7).astype(int)
    assert Fn.average_precision(cont,
                                lab) == pytest.approx(average_precision_score(
                                    lab, cont),
                                                      abs=1e-12)


def test_average_precision_edge_cases():
    assert np.isnan(Fn.average_precision([0.1, 0.2], [0, 0]))
    assert Fn.average_precision([0.1, 0.2], [1, 1]) == 1.0


def _sklearn_eer(labels, scores):
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    return brentq(lambda x: 1.0 - x - interp1d(fpr, tpr)(x), 0.0, 1.0)


@pytest.mark.parametrize('seed', range(5))
def test_eer_matches_sklearn_roc(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 157)
    scores = rng.normal(size=157) + 1.2 * labels  # no ties
    assert Fn.eer(scores,
                  labels) == pytest.approx(_sklearn_eer(labels, scores),
                                           abs=1e-9)


def test_roc_curve_matches_sklearn_with_ties():
    scores, labels = _tied_data(1)
    fpr, tpr, thr = Fn.roc_curve(scores, labels)
    ref_fpr, ref_tpr, ref_thr = roc_curve(labels,
                                          scores,
                                          drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(tpr, ref_tpr)
    np.testing.assert_allclose(thr[1:], ref_thr[1:])


def test_eer_by_hand():
    assert Fn.eer([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 0.0
    assert Fn.eer([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 1.0
    # one negative above one positive of two each: crossing at 0.5
    assert Fn.eer([0.1, 0.6, 0.5, 0.9], [0, 0, 1, 1]) == pytest.approx(0.5)
    assert np.isnan(Fn.eer([0.1, 0.2], [1, 1]))


def test_accuracy_by_hand():
    scores = [0.1, 0.5, 0.51, 0.9]
    # score > thr is fake: 0.5 counts as real (argmax of [0.5, 0.5] is 0)
    assert Fn.accuracy(scores, [0, 0, 1, 1]) == 1.0
    assert Fn.accuracy(scores, [0, 1, 1, 1]) == 0.75
    assert Fn.accuracy(scores, [0, 1, 1, 1], thr=0.3) == 1.0


def test_video_level_by_hand():
    scores = [0.2, 0.4, 0.9, 0.7, 0.1]
    labels = [0, 0, 1, 1, 0]
    vids = ['a', 'a', 'b', 'b', 'c']
    v_scores, v_labels, ids = Fn.video_level(scores, labels, vids)
    assert ids == ['a', 'b', 'c']
    np.testing.assert_allclose(v_scores, [0.3, 0.8, 0.1])
    np.testing.assert_array_equal(v_labels, [0, 1, 0])
    with pytest.raises(ValueError, match="'a'"):
        Fn.video_level(scores, [0, 1, 1, 1, 0], vids)
    with pytest.raises(ValueError, match='length'):
        Fn.video_level(scores, labels, vids[:3])


def _box_mask(h=32, w=32, y0=8, y1=20, x0=10, x1=24):
    mask = np.zeros((h, w), np.float32)
    mask[y0:y1, x0:x1] = 1
    return mask


def test_paired_map_auc_known_answers():
    mask = _box_mask()
    zeros = np.zeros_like(mask)
    # perfect: the fake lights up inside the mask, the real twin does not
    assert Fn.paired_map_auc(mask, zeros, mask) == 1.0
    # inverted
    assert Fn.paired_map_auc(zeros, mask, mask) == 0.0
    # any position prior (same map for both faces) is exactly 0.5
    prior = Fn.gaussian_prior(32, 32)
    assert Fn.paired_map_auc(prior, prior, mask) == 0.5
    # random maps: ~0.5 with enough pixels
    rng = np.random.default_rng(0)
    big = _box_mask(200, 200, 20, 180, 20, 180)
    auc = Fn.paired_map_auc(rng.random((200, 200)), rng.random((200, 200)),
                            big)
    assert abs(auc - 0.5) < 0.05
    # only pixels inside the mask count: outside values are irrelevant
    noisy_real = zeros.copy()
    noisy_real[mask == 0] = 5.0
    assert Fn.paired_map_auc(mask, noisy_real, mask) == 1.0
    # soft mask binarised at thr; empty mask -> nan
    assert np.isnan(Fn.paired_map_auc(mask, zeros, 0.4 * mask))
    assert Fn.paired_map_auc(mask, zeros, 0.4 * mask, thr=0.3) == 1.0
    with pytest.raises(ValueError, match='shape'):
        Fn.paired_map_auc(mask, zeros[:16], mask)


def test_pixel_auc_matches_sklearn():
    rng = np.random.default_rng(0)
    masks = rng.random((3, 16, 16)) > 0.7
    maps = np.round(0.3 * masks + rng.random((3, 16, 16)), 2)
    ref = roc_auc_score(masks.reshape(-1), maps.reshape(-1))
    assert Fn.pixel_auc(maps, masks.astype(np.float32)) == pytest.approx(ref)
    assert Fn.pixel_auc(list(maps), list(masks)) == pytest.approx(ref)
    assert Fn.pixel_auc(masks.astype(float), masks) == 1.0


def test_iou_by_hand():
    m = np.array([[0.9, 0.6, 0.1], [0.2, 0.5, 0.0]])
    gt = np.array([[1, 0, 0], [0, 1, 1]], np.float32)
    # map >= 0.5: (0,0) (0,1) (1,1); gt: (0,0) (1,1) (1,2)
    # intersection 2, union 4
    assert Fn.iou_at(m, gt, 0.5) == 0.5
    # map >= 0.8: (0,0) only -> 1 / 3
    assert Fn.iou_at(m, gt, 0.8) == pytest.approx(1 / 3)
    assert Fn.iou_at(gt, gt, 0.5) == 1.0
    assert np.isnan(Fn.iou_at(np.zeros((2, 3)), np.zeros((2, 3))))


def test_pointing_game_by_hand():
    gt = np.array([[0, 1], [0, 0]], np.float32)
    assert Fn.pointing_game(np.array([[0.1, 0.9], [0.2, 0.3]]), gt) == 1.0
    assert Fn.pointing_game(np.array([[0.1, 0.2], [0.9, 0.3]]), gt) == 0.0
    # a constant map is not a hit: it scores the mask's area fraction
    assert Fn.pointing_game(np.ones((2, 2)), gt) == 0.25
    assert np.isnan(Fn.pointing_game(np.ones((2, 2)), np.zeros((2, 2))))


def test_gaussian_prior():
    g = Fn.gaussian_prior(9, 13, sigma_frac=0.2)
    assert g.shape == (9, 13) and g.dtype == np.float32
    assert g[4, 6] == pytest.approx(1.0) and g.argmax() == 4 * 13 + 6
    np.testing.assert_allclose(g, g[::-1, ::-1], atol=1e-7)
    # one sigma (0.2 * 13 = 2.6 columns) from the centre: exp(-1/2)
    g = Fn.gaussian_prior(1, 101, sigma_frac=0.1)
    assert g[0, 50 + 10] == pytest.approx(np.exp(-0.5 * (10 / 10.1)**2))
    with pytest.raises(ValueError):
        Fn.gaussian_prior(0, 4)


def test_resize_map_matches_cv2_and_pil():
    cv2 = pytest.importorskip('cv2')
    from PIL import Image
    rng = np.random.default_rng(0)
    small = rng.random((7, 9)).astype(np.float32)
    up = Fn.resize_map(small, (21, 27))
    ref = cv2.resize(small, (27, 21), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(up, ref, atol=1e-5)
    big = rng.random((64, 64)).astype(np.float32)
    down = Fn.resize_map(torch.from_numpy(big)[None], (16, 16))
    ref = np.asarray(
        Image.fromarray(big, mode='F').resize((16, 16), Image.BILINEAR))
    np.testing.assert_allclose(down, ref, atol=1e-4)
    with pytest.raises(ValueError, match='2-D'):
        Fn.resize_map(np.zeros((2, 3, 3)), (4, 4))
