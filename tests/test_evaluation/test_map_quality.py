# Copyright (c) mmfocus contributors.
"""MapQualityMetric: IMDL-BenCo per-image metrics, region groups, the
per-region prior and bounded-memory accumulation, against scikit-learn, the
exact functional metrics and hand-made masks with known answers."""
import json
import pickle

import cv2
import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, jaccard_score, roc_auc_score

from mmfocus.evaluation import MapQualityMetric
from mmfocus.evaluation import functional as Fn
from metric_helpers import run_metric as _run
from metric_helpers import run_metric_warnings as _warnings

H = W = 32
# region boxes (y0, y1, x0, x1) of the local self-blends
BOXES = {
    'sbi': (4, 28, 6, 26),
    'sbi-mouth': (20, 27, 10, 22),
    'sbi-eyes': (8, 13, 6, 26),
    'sbi-nose': (12, 20, 13, 19),
}


def _box(name, jitter=0):
    y0, y1, x0, x1 = BOXES[name]
    m = np.zeros((H, W), np.float32)
    m[y0 + jitter:y1 + jitter, x0 + jitter:x1 + jitter] = 1
    return m


def _sample(i, is_fake, method, pred, mask, pair=True):
    real_path, fake_path = f'real/{i}.png', f'fake/{method}/{i}.png'
    return dict(img_path=fake_path if is_fake else real_path,
                pair_path=real_path if is_fake and pair else None,
                method=method if is_fake else 'real',
                gt_label=torch.tensor([int(is_fake)]),
                pred_map=torch.from_numpy(np.asarray(pred, np.float32)),
                gt_mask=torch.from_numpy(
                    np.asarray(mask if is_fake else np.zeros((H, W)),
                               np.float32)))


def _pairs(methods, map_fn, seed=0, jitter=True):
    """One (fake, real) pair per entry of ``methods``; ``map_fn(mask,
    is_fake, rng)`` makes the maps. Masks are the method's box, jittered."""
    rng = np.random.default_rng(seed)
    samples = []
    for i, method in enumerate(methods):
        mask = _box(method, int(rng.integers(-2, 3)) if jitter else 0)
        samples.append(_sample(i, True, method, map_fn(mask, True, rng),
                               mask))
        samples.append(_sample(i, False, method, map_fn(mask, False, rng),
                               mask))
    return samples


def _noisy(mask, is_fake, rng):
    base = 0.35 * mask if is_fake else 0.1 * mask
    return np.clip(base + 0.6 * rng.random(mask.shape), 0, 1)


def _same_dict(a, b, abs_tol=1e-12):
    assert set(a) == set(b)
    for k in a:
        if np.isnan(a[k]):
            assert np.isnan(b[k]), k
        else:
            assert a[k] == pytest.approx(b[k], abs=abs_tol), k


# --------------------------------------------------------------------------
# IMDL-BenCo convention, over fakes only
# --------------------------------------------------------------------------
def test_per_image_metrics_match_sklearn():
    methods = ['sbi', 'sbi-mouth', 'sbi-eyes'] * 4
    samples = _pairs(methods, _noisy)
    # one whole-image mask: no per-image AUC, skipped and counted
    samples[0]['gt_mask'] = torch.ones(H, W)
    out = _run(MapQualityMetric(map_size=None, iou_thrs=(0.3, 0.5)), samples)
    fakes = [s for s in samples if s['gt_label'].item() == 1]
    f1, iou, auc, best = {0.3: [], 0.5: []}, {0.3: [], 0.5: []}, [], []
    for s in fakes:  # references on the float16 maps the metric keeps
        m = s['pred_map'].numpy().astype(np.float16).astype(np.float64)
        gt = (s['gt_mask'].numpy() > 0.5).ravel()
        for t in (0.3, 0.5):
            f1[t].append(f1_score(gt, m.ravel() >= t))
            iou[t].append(jaccard_score(gt, m.ravel() >= t))
        if 0 < gt.sum() < gt.size:
            auc.append(roc_auc_score(gt, m.ravel()))
        # brute force over every distinct value (f1_score checks this
        # formula in test_functional.py)
        pred = m.ravel()[None] >= np.unique(m)[:, None]
        tp = (pred & gt).sum(1)
        best.append(np.max(2 * tp / (pred.sum(1) + gt.sum())))
    for t in (0.3, 0.5):
        assert out[f'f1@{t:g}'] == pytest.approx(np.mean(f1[t]), abs=1e-12)
        assert out[f'iou@{t:g}'] == pytest.approx(np.mean(iou[t]), abs=1e-12)
    assert out['pixel_auc_per_image'] == pytest.approx(np.mean(auc),
                                                       abs=1e-12)
    assert out['num_single_class_masks'] == 1
    assert out['f1_best_optimistic'] == pytest.approx(np.mean(best),
                                                      abs=1e-12)
    assert out['f1_best_optimistic'] >= out['f1@0.5']
    assert out['num_fakes'] == 12


def test_per_image_metrics_known_answers():
    perfect = _run(MapQualityMetric(map_size=None),
                   _pairs(['sbi-mouth'] * 3,
                          lambda m, f, rng: m if f else np.zeros_like(m)))
    for k in ('f1@0.5', 'iou@0.5', 'pixel_auc_per_image',
              'f1_best_optimistic', 'paired_auc', 'pixel_auc'):
        assert perfect[k] == 1.0, k
    inverted = _run(MapQualityMetric(map_size=None),
                    _pairs(['sbi-mouth'] * 3, lambda m, f, rng: 1 - m))
    assert inverted['pixel_auc_per_image'] == 0.0
    assert inverted['pixel_auc'] == 0.0

    # half-overlapping squares: IoU 1/3, F1 1/2 on every fake
    def shifted(mask, is_fake, rng):
        return np.roll(mask, 4, axis=1) if is_fake else np.zeros_like(mask)

    BOXES['square'] = (8, 16, 4, 12)
    try:
        out = _run(MapQualityMetric(map_size=None),
                   _pairs(['square'] * 3, shifted, jitter=False))
    finally:
        del BOXES['square']
    assert out['iou@0.5'] == pytest.approx(1 / 3)
    assert out['f1@0.5'] == pytest.approx(0.5)
    assert out['pointing_game'] == pytest.approx(0.5)  # ties: half inside


def test_priors_per_image_scores_match_functional():
    samples = _pairs(['sbi', 'sbi-mouth', 'sbi-eyes'] * 3, _noisy, seed=3)
    out = _run(MapQualityMetric(map_size=None), samples)
    masks = [s['gt_mask'].numpy().astype(np.float16)
             for s in samples if s['gt_label'].item() == 1]
    priors = dict(
        prior_gaussian=Fn.gaussian_prior(H, W, 0.25),
        prior_mean_mask=np.mean(np.stack(masks).astype(np.float64), 0))
    for name, prior in priors.items():
        lo, hi = prior.min(), prior.max()
        p = ((prior - lo) / (hi - lo)).astype(np.float16)
        for key, fn in (('iou@0.5', Fn.iou_at), ('f1@0.5', Fn.f1_at),
                        ('pixel_auc_per_image', Fn.image_pixel_auc),
                        ('f1_best_optimistic', Fn.best_f1),
                        ('pointing_game', Fn.pointing_game)):
            assert out[f'{name}/{key}'] == pytest.approx(
                np.mean([fn(p, m) for m in masks]), abs=1e-12), (name, key)
        assert out[f'{name}/pixel_auc'] == pytest.approx(
            Fn.pixel_auc([p] * len(masks), masks), abs=1e-12)  # exact
        assert out[f'{name}/paired_auc'] == 0.5
        assert Fn.paired_map_auc(p, p, masks[0]) == 0.5  # the identity used
    assert out['prior_mean_mask/num_sampled'] == len(masks)


# --------------------------------------------------------------------------
# bounded memory: binned pooled AUCs, pending pairs
# --------------------------------------------------------------------------
@pytest.mark.parametrize('bins', (16, 1024))
def test_binned_pooled_aucs_within_stated_tolerance(bins):
    samples = _pairs(['sbi', 'sbi-mouth'] * 10, _noisy, seed=1)
    out = _run(MapQualityMetric(map_size=None, auc_bins=bins), samples)
    fakes = [s for s in samples if s['gt_label'].item() == 1]
    reals = {s['img_path']: s for s in samples if s['gt_label'].item() == 0}
    maps = [s['pred_map'].numpy().astype(np.float16) for s in fakes]
    masks = [s['gt_mask'].numpy() for s in fakes]
    exact = Fn.pixel_auc(maps, masks)  # float16, exact
    bound = out['auc_binning_error_bound']
    assert abs(out['pixel_auc'] - exact) <= bound
    pos = np.concatenate([m[k > 0.5] for m, k in zip(maps, masks)])
    neg = np.concatenate([
        reals[s['pair_path']]['pred_map'].numpy().astype(np.float16)[k > 0.5]
        for s, k in zip(fakes, masks)
    ])
    exact_pooled = Fn.binary_auc(np.r_[pos, neg],
                                 np.r_[np.ones(pos.size), np.zeros(neg.size)])
    assert abs(out['paired_auc_pooled'] - exact_pooled) <= bound
    if bins == 1024:
        assert bound < 2e-3
        assert abs(out['pixel_auc'] - exact) < 1e-4
    # the per-image paired AUC is exact
    assert out['paired_auc'] == pytest.approx(
        np.mean([
            Fn.paired_map_auc(m, reals[s['pair_path']]['pred_map'].numpy()
                              .astype(np.float16), k)
            for s, m, k in zip(fakes, maps, masks)
        ]), abs=1e-12)


def _small_pairs(n, order='adjacent'):
    """n perfect 8x8 pairs in a given evaluation order."""
    rng = np.random.default_rng(0)
    fakes, reals = [], []
    for i in range(n):
        mask = np.zeros((8, 8), np.float32)
        y, x = rng.integers(0, 4, 2)
        mask[y:y + 4, x:x + 4] = 1
        for is_fake, out in ((True, fakes), (False, reals)):
            out.append(
                dict(img_path=f'{"fake" if is_fake else "real"}/{i}.png',
                     pair_path=f'real/{i}.png' if is_fake else None,
                     method='sbi-mouth' if is_fake else 'real',
                     gt_label=int(is_fake),
                     pred_map=mask if is_fake else np.zeros_like(mask),
                     gt_mask=mask if is_fake else None))
    if order == 'adjacent':
        return [s for pair in zip(fakes, reals) for s in pair]
    if order == 'reals_first':
        return reals + fakes
    return fakes + reals


def test_memory_stays_bounded():
    sizes = []
    for n in (100, 1500):
        metric = MapQualityMetric(map_size=(8, 8), max_pending=16,
                                  prior_sample_size=32)
        peak = 0
        for s in _small_pairs(n):
            metric.process(None, [s])
            state = metric.results[0]
            peak = max(peak, len(state['pending']) + len(state['used']))
        assert len(metric.results) == 1  # no per-sample entries
        assert peak <= 16
        sizes.append(len(pickle.dumps(metric.results)))
        out = metric.compute_metrics(metric.results)
        assert out['num_pairs'] == n and out['paired_auc'] == 1.0
        assert out['prior_mean_mask/num_sampled'] == 32
    assert sizes[1] < 1.2 * sizes[0]  # 15x the samples, the same state


@pytest.mark.parametrize('order', ('reals_first', 'fakes_first'))
def test_pairing_does_not_depend_on_order(order):
    ref = _run(MapQualityMetric(map_size=None), _small_pairs(30))
    out = _run(MapQualityMetric(map_size=None), _small_pairs(30, order))
    _same_dict(ref, out)
    assert out['num_pairs'] == 30


def test_one_real_twin_for_several_fakes():
    # FF++ style: several fakes of one real frame, far apart in the order
    samples = _pairs(['sbi'], _noisy)
    for i, method in enumerate(('sbi-mouth', 'sbi-eyes')):
        extra = _pairs([method], _noisy, seed=i + 5)[0]
        extra['img_path'] = f'fake/{method}/0.png'
        extra['pair_path'] = 'real/0.png'
        samples.append(extra)
    out = _run(MapQualityMetric(map_size=None), samples)
    assert out['num_pairs'] == 3 and out['num_missing_twins'] == 0
    assert out['sbi-eyes/num_pairs'] == 1


def test_pairs_further_apart_than_max_pending_are_lost_and_counted():
    # pairs 3 apart (f0 f1 f2 r0 r1 r2 f3 ...): a buffer of 4 is enough,
    # because reals already matched are dropped first
    pairs = _small_pairs(12, 'adjacent')
    fakes, reals = pairs[0::2], pairs[1::2]
    blocks = [fakes[i:i + 3] + reals[i:i + 3] for i in range(0, 12, 3)]
    near = [s for b in blocks for s in b]
    out = _run(MapQualityMetric(map_size=None, max_pending=4), near)
    assert out['num_pairs'] == 12
    # all fakes first: 10 apart, the buffer of 4 loses every pair
    out, warned = _warnings(MapQualityMetric(map_size=None, max_pending=4),
                            _small_pairs(10, 'fakes_first'))
    assert out['num_pairs'] == 0 and out['num_missing_twins'] == 10
    assert np.isnan(out['paired_auc'])
    assert 'evicted at max_pending=4' in warned
    assert out['pixel_auc'] == 1.0  # the other metrics do not need twins
    out = _run(MapQualityMetric(map_size=None, max_pending=None),
               _small_pairs(10, 'fakes_first'))
    assert out['num_pairs'] == 10


def test_ranks_are_merged_and_cross_rank_pairs_found():
    samples = _pairs(['sbi', 'sbi-mouth', 'sbi-eyes'] * 4, _noisy, seed=2)
    ref = _run(MapQualityMetric(map_size=None), samples)
    # an interleaving sampler on 2 ranks: every fake's twin on the other one
    ranks = [MapQualityMetric(map_size=None) for _ in range(2)]
    for i, s in enumerate(samples):
        ranks[i % 2].process(None, [s])
    gathered = pickle.loads(
        pickle.dumps(ranks[0].results + ranks[1].results))
    out = MapQualityMetric(map_size=None).compute_metrics(gathered)
    _same_dict(ref, out)
    assert out['num_pairs'] == 12


def test_evaluate_twice_resets_state():
    metric = MapQualityMetric(map_size=None)
    samples = _pairs(['sbi', 'sbi-mouth'] * 3, _noisy)
    results = []
    for _ in range(2):
        metric.process(None, samples)
        results.append(metric.evaluate(len(samples)))
        assert metric.results == []
    _same_dict(results[0], results[1])
    assert results[0]['map/num_fakes'] == 6


# --------------------------------------------------------------------------
# groups per region, the local aggregate
# --------------------------------------------------------------------------
def test_group_keys_equal_a_run_on_that_group_alone():
    methods = ['sbi', 'sbi-mouth', 'sbi-eyes', 'sbi-nose'] * 3
    samples = _pairs(methods, _noisy, seed=4)
    out = _run(MapQualityMetric(map_size=None), samples)
    assert out['sbi-mouth/num_fakes'] == 3
    assert 'sbi-mouth/paired_auc' in out and 'real/num_fakes' not in out
    assert out['local/num_fakes'] == 9

    def alone(keep):
        subset = [
            s for k, s in enumerate(samples)
            if methods[k // 2] in keep
        ]
        res = _run(MapQualityMetric(map_size=None, group_by=None), subset)
        res.pop('auc_binning_error_bound')
        return res

    for group in ('sbi', 'sbi-mouth', 'sbi-eyes', 'sbi-nose'):
        mine = {
            k[len(group) + 1:]: v
            for k, v in out.items() if k.startswith(group + '/')
        }
        _same_dict(mine, alone({group}))
    local = {k[6:]: v for k, v in out.items() if k.startswith('local/')}
    _same_dict(local, alone({'sbi-mouth', 'sbi-eyes', 'sbi-nose'}))
    # the overall keys are every fake's
    overall = alone(set(methods))
    _same_dict({k: out[k] for k in overall}, overall)


def test_no_local_groups_no_local_keys_and_group_by_none():
    out = _run(MapQualityMetric(map_size=None), _pairs(['sbi'] * 3, _noisy))
    assert 'sbi/num_fakes' in out
    assert not any(k.startswith('local/') for k in out)
    out = _run(MapQualityMetric(map_size=None, group_by=None),
               _pairs(['sbi', 'sbi-mouth'] * 2, _noisy))
    assert not any(k.startswith(('sbi', 'local/')) for k in out)


# --------------------------------------------------------------------------
# the per-region prior: the mean training mask of the fake's region type
# --------------------------------------------------------------------------
def _train_ann(tmp_path, per_method=3):
    """A training annotation (mmengine BaseDataset JSON) with mouth and eyes
    masks (PNG, 0/255) and a whole-face one; reals have no mask."""
    root = tmp_path / 'train_root'
    (root / 'mask').mkdir(parents=True)
    data = []
    for method in ('sbi', 'sbi-mouth', 'sbi-eyes'):
        for i in range(per_method):
            name = f'mask/{method}_{i}.png'
            cv2.imwrite(str(root / name),
                        (_box(method) * 255).astype(np.uint8))
            data.append(dict(img_path=f'fake/{method}_{i}.png', gt_label=1,
                             method=method, mask_path=name))
            data.append(dict(img_path=f'real/{i}.png', gt_label=0,
                             method='real', mask_path=None))
    ann = root / 'train.json'
    ann.write_text(json.dumps(dict(metainfo={}, data_list=data)))
    return root, ann


def test_region_prior(tmp_path):
    root, ann = _train_ann(tmp_path)
    # test fakes whose masks are exactly their region's training mask, and
    # one of a region never seen in training
    samples = _pairs(['sbi-mouth', 'sbi-eyes'] * 2 + ['sbi-nose'], _noisy,
                     jitter=False)
    metric = MapQualityMetric(map_size=None, region_prior_ann=str(ann))
    out, warned = _warnings(metric, samples)
    for g in ('sbi-mouth', 'sbi-eyes'):
        for k in ('pixel_auc', 'pixel_auc_per_image', 'f1@0.5', 'iou@0.5',
                  'f1_best_optimistic', 'pointing_game'):
            assert out[f'{g}/prior_region/{k}'] == 1.0, (g, k)
        assert out[f'{g}/prior_region/num_unseen'] == 0
        assert out[f'{g}/prior_region/paired_auc'] == 0.5
        # the Gaussian cannot find a local region this well
        assert out[f'{g}/prior_gaussian/f1@0.5'] < 0.8
    assert out['prior_region/num_unseen'] == 1
    assert out['sbi-nose/prior_region/num_unseen'] == 1
    assert 'sbi-nose (1 fakes)' in warned
    # the unseen region used the mean of all training masks
    fallback = np.mean([_box(m) for m in ('sbi', 'sbi-mouth', 'sbi-eyes')],
                       0)
    fallback = ((fallback - fallback.min()) /
                (fallback.max() - fallback.min())).astype(np.float16)
    assert out['sbi-nose/prior_region/iou@0.5'] == pytest.approx(
        Fn.iou_at(fallback, _box('sbi-nose')))
    # mask paths relative to data_root, annotation found under it
    again = _run(
        MapQualityMetric(map_size=None, region_prior_ann='train.json',
                         data_root=str(root)), samples)
    _same_dict(out, again)
    # masks resized to map_size like the test masks
    small = _run(MapQualityMetric(map_size=(16, 16),
                                  region_prior_ann=str(ann)), samples)
    assert small['sbi-mouth/prior_region/pixel_auc'] > 0.95


def test_region_prior_errors_name_the_file(tmp_path):
    # resolved (and checked) when first needed: on the first batch
    missing = MapQualityMetric(map_size=None,
                               region_prior_ann=str(tmp_path / 'nope.json'))
    with pytest.raises(FileNotFoundError, match='nope.json'):
        missing.process(None, _pairs(['sbi-mouth'], _noisy))
    root, ann = _train_ann(tmp_path, per_method=1)
    # a relative name under the evaluated dataset's data_root
    # (FaceForgeryDataset's metainfo carries it)
    rel = MapQualityMetric(map_size=None, region_prior_ann=ann.name)
    rel.dataset_meta = dict(data_root=str(ann.parent))
    assert rel.region_prior_ann == str(ann)
    (root / 'mask' / 'sbi-eyes_0.png').unlink()
    metric = MapQualityMetric(map_size=None, region_prior_ann=str(ann))
    with pytest.raises(FileNotFoundError, match='sbi-eyes_0.png'):
        metric.process(None, _pairs(['sbi-mouth'], _noisy))
    bad = tmp_path / 'bad.json'
    bad.write_text('{"data_list": [')
    with pytest.raises(ValueError, match='bad.json'):
        MapQualityMetric(map_size=None, region_prior_ann=str(bad)).process(
            None, _pairs(['sbi-mouth'], _noisy))


# --------------------------------------------------------------------------
# the test-fitted mean-mask prior from a bounded reservoir
# --------------------------------------------------------------------------
def test_mean_mask_prior_reservoir():
    samples = _pairs(['sbi', 'sbi-mouth'] * 20, _noisy, seed=6)
    exact = _run(MapQualityMetric(map_size=None), samples)
    sampled = _run(MapQualityMetric(map_size=None, prior_sample_size=8),
                   samples)
    assert exact['prior_mean_mask/num_sampled'] == 40
    assert sampled['prior_mean_mask/num_sampled'] == 16  # 8 per group
    assert sampled['sbi/prior_mean_mask/num_sampled'] == 8
    # the pooled AUC and the model's metrics do not depend on the sample
    for k in ('prior_mean_mask/pixel_auc', 'paired_auc', 'f1@0.5'):
        assert sampled[k] == exact[k]
    # the per-image estimate is close (a stratified sample of the fakes)
    assert sampled['prior_mean_mask/iou@0.5'] == pytest.approx(
        exact['prior_mean_mask/iou@0.5'], abs=0.15)
    again = _run(MapQualityMetric(map_size=None, prior_sample_size=8),
                 samples)
    _same_dict(sampled, again)  # seeded


def test_out_of_range_maps_are_clipped_and_warned():
    out, warned = _warnings(
        MapQualityMetric(map_size=None),
        _pairs(['sbi'] * 3, lambda m, f, rng: 3 * m - 1 if f else m - 1))
    assert 'outside [0, 1]' in warned
    assert out['paired_auc'] == 1.0  # exact per pair, not binned
    with pytest.raises(ValueError, match='NaN or inf'):
        MapQualityMetric().process(
            None, _pairs(['sbi'], lambda m, f, rng: m * np.nan))


_DDP_SCRIPT = r'''
import json, os, sys
import numpy as np
import torch
import torch.distributed as dist
from mmfocus.evaluation import MapQualityMetric

rank, world, init, out = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                          sys.argv[4])
dist.init_process_group('gloo', init_method='file://' + init, rank=rank,
                        world_size=world)
rng = np.random.default_rng(0)
samples = []
for i in range(15):  # 30 samples: the sampler pads nothing on 2 ranks
    method = ('sbi', 'sbi-mouth', 'sbi-eyes')[i % 3]
    mask = np.zeros((16, 16), np.float32)
    y, x = rng.integers(0, 8, 2)
    mask[y:y + 6, x:x + 6] = 1
    fake = np.clip(0.4 * mask + 0.6 * rng.random((16, 16)), 0, 1)
    real = np.clip(0.6 * rng.random((16, 16)), 0, 1)
    samples += [
        dict(img_path=f'f{i}', pair_path=f'r{i}', method=method, gt_label=1,
             pred_map=fake.astype(np.float32), gt_mask=mask),
        dict(img_path=f'r{i}', pair_path=None, method='real', gt_label=0,
             pred_map=real.astype(np.float32), gt_mask=None)]
metric = MapQualityMetric(map_size=None)
for s in samples[rank::world]:  # mmengine's DefaultSampler interleaves
    metric.process(None, [s])
got = metric.evaluate(len(samples))
if rank == 0:
    ref = MapQualityMetric(map_size=None)
    ref.process(None, samples)
    json.dump(dict(got=got, ref=ref.compute_metrics(ref.results)),
              open(out, 'w'))
dist.destroy_process_group()
'''


def test_two_processes_gather_and_pair_across_ranks(tmp_path):
    import os
    import subprocess
    import sys
    root = __file__.rsplit('/tests/', 1)[0]
    script = tmp_path / 'ddp_metric.py'
    script.write_text(_DDP_SCRIPT)
    out = tmp_path / 'out.json'
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='')
    procs = [
        subprocess.Popen([
            sys.executable,
            str(script), str(r), '2',
            str(tmp_path / 'init'),
            str(out)
        ],
                         env=env,
                         stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT,
                         text=True) for r in range(2)
    ]
    logs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    res = json.loads(out.read_text())
    got = {k[len('map/'):]: v for k, v in res['got'].items()}
    ref = {k: (np.nan if v is None else v) for k, v in res['ref'].items()}
    got = {k: (np.nan if v is None else v) for k, v in got.items()}
    _same_dict(got, ref)
    assert got['num_pairs'] == 15  # every twin was on the other rank
