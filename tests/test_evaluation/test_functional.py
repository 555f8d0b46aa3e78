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


# --------------------------------------------------------------------------
# IMDL-BenCo-style per-image pixel metrics
# --------------------------------------------------------------------------
def _squares(shift):
    """Two 8x8 squares in a 16x16 image, the map's moved ``shift`` pixels
    right of the mask's."""
    mask = np.zeros((16, 16), np.float32)
    mask[4:12, 2:10] = 1
    map_ = np.zeros((16, 16), np.float32)
    map_[4:12, 2 + shift:10 + shift] = 1
    return map_, mask


def test_pixel_f1_iou_auc_known_answers():
    map_, mask = _squares(0)
    for fn in (Fn.f1_at, Fn.iou_at, Fn.image_pixel_auc, Fn.best_f1):
        assert fn(map_, mask) == 1.0  # the map is the mask
    assert Fn.image_pixel_auc(1 - mask, mask) == 0.0  # inverted
    assert Fn.best_f1(1 - mask, mask) < 1.0
    # half-overlapping squares: 32 of 64 pixels shared -> IoU 32/96
    map_, mask = _squares(4)
    assert Fn.iou_at(map_, mask) == pytest.approx(1 / 3)
    assert Fn.f1_at(map_, mask) == pytest.approx(0.5)  # 2*32 / (64+64)
    # empty prediction of a non-empty mask scores 0; both empty is nan
    zeros = np.zeros_like(mask)
    assert Fn.f1_at(zeros, mask) == 0.0
    assert np.isnan(Fn.f1_at(zeros, zeros))
    assert np.isnan(Fn.best_f1(map_, zeros))
    # the threshold is map >= thr
    assert Fn.f1_at(mask * 0.5, mask, thr=0.5) == 1.0
    assert Fn.f1_at(mask * 0.5, mask, thr=0.51) == 0.0
    # one-class masks have no per-image AUC
    assert np.isnan(Fn.image_pixel_auc(map_, np.ones_like(mask)))
    assert np.isnan(Fn.image_pixel_auc(map_, zeros))


@pytest.mark.parametrize('seed', range(4))
def test_pixel_f1_iou_auc_match_sklearn(seed):
    from sklearn.metrics import f1_score, jaccard_score
    rng = np.random.default_rng(seed)
    mask = np.zeros((24, 24), np.float32)
    mask[rng.integers(0, 8):rng.integers(12, 24),
         rng.integers(0, 8):rng.integers(12, 24)] = 0.9
    map_ = np.clip(0.4 * (mask > 0.5) + rng.random(mask.shape) * 0.7, 0, 1)
    map_ = np.round(map_, 2)  # ties
    gt = (mask > 0.5).ravel()
    for thr in (0.3, 0.5, 0.7):
        pred = (map_ >= thr).ravel()
        assert Fn.f1_at(map_, mask, thr) == pytest.approx(f1_score(gt, pred))
        assert Fn.iou_at(map_, mask, thr) == pytest.approx(
            jaccard_score(gt, pred))
    assert Fn.image_pixel_auc(map_, mask) == pytest.approx(roc_auc_score(
        gt, map_.ravel()),
                                                           abs=1e-12)
    # best threshold: brute force over every distinct value (and above max)
    best = max(
        f1_score(gt, (map_ >= t).ravel(), zero_division=0)
        for t in np.r_[np.unique(map_), 2.0])
    assert Fn.best_f1(map_, mask) == pytest.approx(best)
    assert Fn.best_f1(map_, mask) >= Fn.f1_at(map_, mask)


# --------------------------------------------------------------------------
# binned AUC (bounded memory) against the exact one
# --------------------------------------------------------------------------
def test_histogram_auc_is_exact_with_one_bin_per_value():
    scores, labels = _tied_data(0)
    labels = labels.astype(bool)
    uniq, inv = np.unique(scores, return_inverse=True)
    pos = np.bincount(inv[labels], minlength=len(uniq))
    neg = np.bincount(inv[~labels], minlength=len(uniq))
    assert Fn.histogram_auc(pos, neg) == pytest.approx(
        Fn.binary_auc(scores, labels), abs=1e-12)
    # weighted_auc does that grouping itself
    assert Fn.weighted_auc(scores, labels, ~labels) == pytest.approx(
        Fn.binary_auc(scores, labels), abs=1e-12)
    assert np.isnan(Fn.histogram_auc([1, 2], [0, 0]))


@pytest.mark.parametrize('bins', (4, 64, 1024))
@pytest.mark.parametrize('seed', range(3))
def test_binned_auc_within_its_bound_of_exact(bins, seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(20000) < 0.3
    spread = rng.random(20000)**np.where(labels, 0.6, 1.0)  # over [0, 1]
    # clipped normals: many exact 0s and 1s, which the bound counts
    clipped = np.clip(0.5 + 0.2 * labels + 0.25 * rng.normal(size=20000), 0,
                      1)
    for name, scores in (('spread', spread), ('clipped', clipped)):
        scores = scores.astype(np.float16)  # as the metric keeps maps
        exact = Fn.binary_auc(scores, labels)
        pos = Fn.score_histogram(scores[labels], bins)
        neg = Fn.score_histogram(scores[~labels], bins)
        assert pos.sum() + neg.sum() == scores.size
        bound = Fn.histogram_auc_error(pos, neg)
        err = abs(Fn.histogram_auc(pos, neg) - exact)
        assert err <= bound + 1e-12  # guaranteed
        if bins == 1024:  # the tolerances stated in metrics.md
            assert err < 1e-4  # observed, far inside the bound
            if name == 'spread':
                assert bound < 1e-3


def test_score_histogram_edges_and_separated_classes():
    h = Fn.score_histogram([0.0, 0.5, 1.0, -3.0, 7.0], bins=4)
    assert h.tolist() == [2, 0, 1, 2]  # out-of-range values clipped
    pos = Fn.score_histogram([0.9, 1.0], 1024)
    neg = Fn.score_histogram([0.0, 0.1], 1024)
    assert Fn.histogram_auc(pos, neg) == 1.0
    assert Fn.histogram_auc_error(pos, neg) == 0.0
    with pytest.raises(ValueError, match='NaN'):
        Fn.score_histogram([np.nan])


# --------------------------------------------------------------------------
# faithfulness: deletion / insertion
# --------------------------------------------------------------------------
def _toy_faithfulness(sigma=2.0):
    """A noise image and a score that is the fraction of a known region's
    pixels still different from the blurred copy: deleting a region pixel
    (= setting it to the blurred value) lowers the score by 1/|R|."""
    import cv2
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    blurred = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma)
    region = np.zeros((32, 32), bool)
    region[8:24, 8:24] = True  # 1/4 of the image
    assert (img != blurred).any(-1)[region].all()

    def score_fn(batch):
        assert batch.dtype == np.uint8 and batch.shape[1:] == (32, 32, 3)
        return (batch != blurred).any(-1)[:, region].mean(1)

    return img, region, score_fn


def test_deletion_insertion_exact_toy():
    img, region, score_fn = _toy_faithfulness()
    res = Fn.deletion_insertion(score_fn, img, region.astype(np.float32),
                                steps=8, blur_sigma=2.0, batch_size=3)
    c = res['curves']
    assert c['fractions'].tolist() == [i / 8 for i in range(9)]
    # the region (1/4 of the pixels) goes first: 1, 0.5, 0, 0, ...
    assert c['deletion'].tolist() == [1, 0.5] + [0] * 7
    assert c['insertion'].tolist() == [0, 0.5] + [1] * 7
    assert res['deletion_auc'] == pytest.approx(0.125)  # area a / 2
    assert res['insertion_auc'] == pytest.approx(0.875)  # 1 - a / 2
    # the inverted map deletes the region last
    inv = Fn.deletion_insertion(score_fn, img, (~region).astype(np.float32),
                                steps=8, blur_sigma=2.0)
    assert inv['deletion_auc'] == pytest.approx(0.875)
    assert inv['insertion_auc'] == pytest.approx(0.125)
    # a random map lies in between: more faithful = lower deletion AUC
    rnd = Fn.deletion_insertion_random(score_fn, img, steps=8,
                                       blur_sigma=2.0, seed=0, repeats=3)
    assert len(rnd['deletion_aucs']) == 3
    assert res['deletion_auc'] < rnd['deletion_auc'] < inv['deletion_auc']
    assert res['insertion_auc'] > rnd['insertion_auc'] > inv['insertion_auc']
    assert abs(rnd['deletion_auc'] - 0.5) < 0.1
    again = Fn.deletion_insertion_random(score_fn, img, steps=8,
                                         blur_sigma=2.0, seed=0, repeats=3)
    assert again['deletion_aucs'] == rnd['deletion_aucs']  # seeded


def test_deletion_insertion_low_res_map_float_image_and_errors():
    img, region, _ = _toy_faithfulness()
    imgf = img.astype(np.float32) / 255
    # a 16x16 token-grid-like map of the region, upsampled to 32x32
    small = np.zeros((16, 16), np.float32)
    small[4:12, 4:12] = 1
    seen = []

    def mean_fn(batch):
        seen.append(batch.dtype)
        return torch.from_numpy(batch[:, 8:24, 8:24].mean((1, 2, 3)))

    res = Fn.deletion_insertion(mean_fn, imgf, small, steps=4)
    assert set(seen) == {np.dtype(np.float32)}
    assert res['curves']['deletion'].shape == (5, )
    assert res['curves']['deletion'][0] == pytest.approx(
        imgf[8:24, 8:24].mean(), rel=1e-6)
    with pytest.raises(ValueError, match='2 scores for a batch of 5'):
        Fn.deletion_insertion(lambda b: [0.1, 0.2], img, small, steps=4)
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        Fn.deletion_insertion(mean_fn, img[..., 0], small)
    with pytest.raises(ValueError, match='steps'):
        Fn.deletion_insertion(mean_fn, img, small, steps=0)
    with pytest.raises(ValueError, match='NaN'):
        Fn.deletion_insertion(mean_fn, img, small * np.nan)
