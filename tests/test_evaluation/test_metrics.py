# Copyright (c) mmfocus contributors.
"""ForgeryMetric and MapQualityMetric through process() + compute_metrics(),
fed with DataSample.to_dict()-like inputs."""
import pickle

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from mmfocus.evaluation import ForgeryMetric, MapQualityMetric
from mmfocus.evaluation import functional as Fn
from metric_helpers import run_metric as _run
from metric_helpers import run_metric_warnings as _warnings
from mmfocus.registry import METRICS


def _det_sample(score, label, video_id=None, img_path='x.png'):
    return dict(pred_score=torch.tensor([1.0 - score, score]),
                pred_label=torch.tensor([int(score > 0.5)]),
                gt_label=torch.tensor([label]),
                img_path=img_path,
                video_id=video_id,
                pair_path=None,
                method='DF' if label else 'real')


def test_forgery_metric_matches_sklearn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 60)
    scores = np.round(np.clip(0.3 * labels + 0.7 * rng.random(60), 0, 1), 2)
    samples = [
        _det_sample(s, int(y), img_path=f'{i}.png')
        for i, (s, y) in enumerate(zip(scores, labels))
    ]
    out = _run(METRICS.build(dict(type='ForgeryMetric')), samples)
    assert set(out) == {'acc', 'auc', 'eer', 'ap'}  # no video ids
    assert out['auc'] == pytest.approx(100 * roc_auc_score(labels, scores))
    assert out['ap'] == pytest.approx(100 *
                                      average_precision_score(labels, scores))
    assert out['acc'] == pytest.approx(100 * np.mean((scores > 0.5) == labels))
    assert out['eer'] == pytest.approx(100 * Fn.eer(scores, labels))
    assert 0 < out['eer'] < 50


def test_forgery_metric_branch_aucs_match_sklearn():
    # FoCus's per-branch heads (pred_score_<branch>): one AUC each
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 40)
    fused, rgb, sobel = (np.round(rng.random(40) * w + labels * (1 - w), 2)
                         for w in (0.5, 0.8, 0.95))
    samples = []
    for i, y in enumerate(labels):
        s = _det_sample(fused[i], int(y), img_path=f'{i}.png')
        s['pred_score_rgb'] = torch.tensor([1 - rgb[i], rgb[i]])
        s['pred_score_sobel'] = torch.tensor([1 - sobel[i], sobel[i]])
        samples.append(s)
    out = _run(ForgeryMetric(), samples)
    assert out['auc'] == pytest.approx(100 * roc_auc_score(labels, fused))
    assert out['auc_rgb'] == pytest.approx(100 * roc_auc_score(labels, rgb))
    assert out['auc_sobel'] == pytest.approx(
        100 * roc_auc_score(labels, sobel))
    # a branch score missing from one sample is not reported
    del samples[3]['pred_score_sobel']
    assert 'auc_sobel' not in _run(ForgeryMetric(), samples)


def test_forgery_metric_video_level_and_prefix():
    # two frames per video; frame-level one error, video-level none
    frames = [('r1', 0, 0.1), ('r1', 0, 0.6), ('r2', 0, 0.2), ('r2', 0, 0.3),
              ('f1', 1, 0.9), ('f1', 1, 0.8), ('f2', 1, 0.7), ('f2', 1, 0.45)]
    samples = [
        _det_sample(s, y, video_id=v, img_path=f'{v}_{i}.png')
        for i, (v, y, s) in enumerate(frames)
    ]
    metric = ForgeryMetric(prefix='ffpp')
    for s in samples:
        metric.process(None, [s])
    out = metric.evaluate(len(samples))  # mmengine path: adds the prefix
    assert out['ffpp/acc'] == pytest.approx(75.0)
    assert out['ffpp/video_acc'] == pytest.approx(100.0)
    assert out['ffpp/video_auc'] == pytest.approx(100.0)
    assert out['ffpp/auc'] == pytest.approx(
        100 * roc_auc_score([y
                             for _, y, _ in frames], [s
                                                      for _, _, s in frames]))
    # one frame per video, or a missing video id: no video-level keys
    one_each = [dict(s, video_id=s['img_path']) for s in samples]
    assert 'video_auc' not in _run(ForgeryMetric(), one_each)
    some_none = [dict(s) for s in samples]
    some_none[0]['video_id'] = None
    assert 'video_auc' not in _run(ForgeryMetric(), some_none)


def test_forgery_metric_single_class_is_nan_with_warning():
    samples = [_det_sample(s, 1) for s in (0.2, 0.7, 0.9)]
    out, warned = _warnings(ForgeryMetric(), samples)
    assert np.isnan(out['auc']) and np.isnan(out['eer'])
    assert np.isnan(out['ap'])
    assert out['acc'] == pytest.approx(200 / 3)
    assert 'only fake' in warned


def test_forgery_metric_bad_input():
    bad = _det_sample(0.3, 2, img_path='bad.png')
    with pytest.raises(ValueError, match='bad.png'):
        ForgeryMetric().process(None, [bad])
    no_score = _det_sample(0.3, 1, img_path='ns.png')
    del no_score['pred_score']
    with pytest.raises(KeyError, match='ns.png'):
        ForgeryMetric().process(None, [no_score])


def test_forgery_metric_with_mmpretrain_datasample():
    DataSample = pytest.importorskip('mmpretrain.structures').DataSample
    samples = []
    for i, (s, y) in enumerate([(0.9, 1), (0.2, 0), (0.6, 1), (0.7, 0)]):
        ds = DataSample(metainfo=dict(img_path=f'{i}.png', video_id=None))
        ds.set_gt_label(y).set_pred_score(torch.tensor([1 - s, s]))
        samples.append(ds.to_dict())
    out = _run(ForgeryMetric(), samples)
    assert out['auc'] == pytest.approx(75.0)
    assert out['acc'] == pytest.approx(75.0)  # only (0.7, real) wrong


# --------------------------------------------------------------------------
# MapQualityMetric on hand-made masks
# --------------------------------------------------------------------------
H = W = 32


def _mask(rng):
    """A random box inside a central region (aligned-face-like)."""
    m = np.zeros((H, W), np.float32)
    y0, x0 = rng.integers(6, 14, 2)
    m[y0:y0 + rng.integers(8, 14), x0:x0 + rng.integers(8, 14)] = 1
    return m


def _map_samples(map_fn, n=12, seed=0, size=None, drop_twins=()):
    """n fake/real pairs. ``map_fn(mask, is_fake, rng)`` makes each map;
    reals get zero masks; ``drop_twins`` indices lose their real twin."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        mask = _mask(rng)
        real_path, fake_path = f'data/real/{i}.png', f'data/fake/{i}.png'
        for is_fake in (True, False):
            if not is_fake and i in drop_twins:
                continue
            m = map_fn(mask, is_fake, rng).astype(np.float32)
            samples.append(
                dict(img_path=fake_path if is_fake else real_path,
                     pair_path=real_path if is_fake else None,
                     video_id=None,
                     method='SBI' if is_fake else 'real',
                     gt_label=torch.tensor([int(is_fake)]),
                     pred_score=torch.tensor([0.5, 0.5]),
                     pred_map=torch.from_numpy(m),
                     gt_mask=torch.from_numpy(
                         mask if is_fake else np.zeros_like(mask))))
    return samples


def _perfect(mask, is_fake, rng):
    return mask if is_fake else np.zeros_like(mask)


def test_perfect_map_scores_one():
    out = _run(MapQualityMetric(map_size=None), _map_samples(_perfect))
    assert out['paired_auc'] == 1.0
    assert out['paired_auc_pooled'] == 1.0
    assert out['pixel_auc'] == 1.0
    assert out['iou@0.5'] == 1.0
    assert out['pointing_game'] == 1.0
    assert out['num_pairs'] == 12 and out['num_fakes'] == 12
    assert out['num_missing_twins'] == 0
    # the priors: 0.5 paired AUC by construction, high pixel AUC
    for prior in ('prior_mean_mask', 'prior_gaussian'):
        assert out[f'{prior}/paired_auc'] == 0.5
        assert out[f'{prior}/paired_auc_pooled'] == 0.5
        assert 0.75 < out[f'{prior}/pixel_auc'] < 1.0
    assert out['prior_mean_mask/pixel_auc'] > 0.85


def test_paired_auc_interval_over_pairs():
    # every pair scores 1: the interval is [1, 1]
    out = _run(MapQualityMetric(map_size=None), _map_samples(_perfect))
    assert out['paired_auc_ci_low'] == out['paired_auc_ci_high'] == 1.0
    # random maps: the bootstrap interval of the mean over the 20 pairs
    # (the metric's own per-pair AUCs, recomputed here with
    # paired_map_auc) brackets the mean and matches bootstrap_interval
    samples = _map_samples(lambda m, f, rng: rng.random(m.shape), n=20)
    out = _run(MapQualityMetric(map_size=None), samples)
    lo, hi = out['paired_auc_ci_low'], out['paired_auc_ci_high']
    assert lo < out['paired_auc'] < hi and hi - lo < 0.2
    maps = {s['img_path']: s['pred_map'].numpy() for s in samples}
    per_pair = [Fn.paired_map_auc(maps[s['img_path']], maps[s['pair_path']],
                                  s['gt_mask'].numpy())
                for s in samples if s['pair_path']]
    assert np.isclose(np.mean(per_pair), out['paired_auc'], atol=1e-3)
    # (the metric bins the per-pair AUCs to 0.001 and resamples the bins)
    ref = Fn.bootstrap_interval(per_pair)
    assert lo == pytest.approx(ref[0], abs=0.01)
    assert hi == pytest.approx(ref[1], abs=0.01)
    # the priors score 0.5 by construction and get no interval
    assert 'prior_gaussian/paired_auc_ci_low' not in out


def test_perfect_map_after_default_downsampling():
    metric = MapQualityMetric(map_size=(16, 16))
    out = _run(metric, _map_samples(_perfect, drop_twins=(11, )))
    assert out['paired_auc'] == 1.0
    assert out['pixel_auc'] > 0.98  # box edges blur when downsampled
    # one running state, no per-sample entries: completed pairs keep no
    # fake map; the fake whose twin never came still waits, float16 16x16
    assert len(metric.results) == 1
    state = metric.results[0]
    waiting = [v for k, v in state['pending'].items() if k[0] == 'f']
    assert len(waiting) == 1
    assert waiting[0]['map'].dtype == np.float16
    assert waiting[0]['map'].shape == (16, 16)
    pickle.dumps(metric.results)  # gathered across ranks by pickling


def test_random_map_near_half():
    out = _run(MapQualityMetric(map_size=None),
               _map_samples(lambda m, f, rng: rng.random(m.shape), n=20))
    assert abs(out['paired_auc'] - 0.5) < 0.05
    assert abs(out['paired_auc_pooled'] - 0.5) < 0.05
    assert abs(out['pixel_auc'] - 0.5) < 0.05


def test_position_prior_map_is_exactly_half():
    prior = Fn.gaussian_prior(H, W, 0.2)
    out = _run(MapQualityMetric(map_size=None),
               _map_samples(lambda m, f, rng: prior))
    assert out['paired_auc'] == 0.5
    assert out['paired_auc_pooled'] == 0.5
    assert out['pixel_auc'] > 0.75  # the pitfall the priors make visible


def test_inverted_map_scores_zero():
    out = _run(MapQualityMetric(map_size=None),
               _map_samples(lambda m, f, rng: 1 - m if f else np.ones_like(m)))
    assert out['paired_auc'] == 0.0
    assert out['pixel_auc'] == 0.0
    assert out['pointing_game'] == 0.0
    assert out['iou@0.5'] < 0.01  # map >= 0.5 everywhere outside the mask


def test_missing_twins_are_skipped_and_counted():
    out, warned = _warnings(MapQualityMetric(map_size=None),
                            _map_samples(_perfect, n=6, drop_twins=(1, 4)))
    assert out['num_pairs'] == 4
    assert out['num_missing_twins'] == 2
    assert out['num_fakes'] == 6
    assert out['paired_auc'] == 1.0
    assert '2 fakes skipped' in warned
    # no twin at all: nan paired AUC, other metrics still there
    out, warned = _warnings(MapQualityMetric(map_size=None),
                            _map_samples(_perfect, n=3, drop_twins=(0, 1, 2)))
    assert out['num_pairs'] == 0 and np.isnan(out['paired_auc'])
    assert out['pixel_auc'] == 1.0


def test_map_of_other_size_is_resized():
    # maps predicted at 16x16 (e.g. a 1/2-resolution head), masks at 32x32
    def half_res(mask, is_fake, rng):
        small = Fn.resize_map(mask, (16, 16))
        return small if is_fake else np.zeros_like(small)

    for map_size in (None, (24, 24)):
        out = _run(MapQualityMetric(map_size=map_size), _map_samples(half_res))
        assert out['paired_auc'] == 1.0
        assert out['pixel_auc'] > 0.95


def test_pixeldata_dict_and_numpy_inputs():
    samples = _map_samples(_perfect, n=4)
    for s in samples:  # PixelData.to_dict() gives {'data': 1xHxW}
        s['pred_map'] = dict(data=s['pred_map'][None])
        s['gt_mask'] = s['gt_mask'].numpy()
    out = _run(METRICS.build(dict(type='MapQualityMetric', map_size=None)),
               samples)
    assert out['paired_auc'] == 1.0


def test_no_masks_returns_empty_with_warning():
    samples = _map_samples(_perfect, n=3)
    for s in samples:
        del s['gt_mask']
    out, warned = _warnings(MapQualityMetric(), samples)
    assert out == {}
    assert 'gt_mask' in warned


def test_missing_pred_map_names_the_sample():
    sample = _map_samples(_perfect, n=1)[0]
    del sample['pred_map']
    with pytest.raises(KeyError, match='data/fake/0.png'):
        MapQualityMetric().process(None, [sample])


def test_evaluate_adds_map_prefix():
    metric = MapQualityMetric(map_size=None, priors=False, iou_thrs=(0.3, 0.5))
    samples = _map_samples(_perfect, n=3)
    metric.process(None, samples)
    out = metric.evaluate(len(samples))
    assert out['map/paired_auc'] == 1.0
    assert out['map/iou@0.3'] == 1.0
    assert not any('prior' in k for k in out)


def test_dump_predictions_keeps_branch_scores(tmp_path):
    import json
    from mmfocus.evaluation.metrics.dump import DumpPredictions
    out = str(tmp_path / 'p.json')
    s = _det_sample(0.8, 1)
    s['pred_score_sobel'] = torch.tensor([0.3, 0.7])
    metric = DumpPredictions(out)
    metric.process(None, [s, _det_sample(0.2, 0)])
    metric.compute_metrics(metric.results)
    rows = json.load(open(out))
    assert rows[0]['fake_score'] == pytest.approx(0.8)
    assert rows[0]['fake_score_sobel'] == pytest.approx(0.7)
    assert 'fake_score_sobel' not in rows[1]
