# Copyright (c) mmfocus contributors.
"""MultiDatasetTestLoop: two tiny demo-format test sets, each with its own
evaluator, in one run (in-process against sklearn, and end to end through
tools/test.py)."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny_cross.py')


def _opts(data_root):
    return [f'test_dataloader.dataset.data_root={data_root}',
            f'test_cfg.extra.0.dataset.data_root={data_root}']


@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    from mmengine.config import Config

    from mmfocus.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CFG).model)
    path = str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


def _runner(data_root, work_dir, ckpt, **test_cfg):
    from mmfocus.apis.runner import build_runner, load_config
    cfg = load_config(CFG, _opts(data_root), work_dir=str(work_dir))
    cfg.load_from = ckpt
    cfg.custom_hooks = []
    cfg.test_cfg.update(test_cfg)
    return build_runner(cfg)


def test_prefix_metrics():
    from mmfocus.engine import prefix_metrics
    assert prefix_metrics('cdf', {'cdf/auc': 1.0, 'forgery/acc': 2.0,
                                  'cdfx/auc': 3.0}) == {
        'cdf/auc': 1.0, 'cdf/forgery/acc': 2.0, 'cdf/cdfx/auc': 3.0}


def test_each_set_scored_by_its_own_evaluator(tiny_demo_data, tiny_ckpt,
                                              tmp_path):
    runner = _runner(tiny_demo_data, tmp_path, tiny_ckpt)
    metrics = runner.test()
    loop = runner.test_loop
    assert [name for name, _, _ in loop.sets] == ['demo-test', 'demo-val']
    assert runner.test_dataloader is loop.sets[0][1]  # the main one again
    assert loop.names == ['demo-test', 'demo-val'] and loop.current_set is None
    assert loop.sets[1][1].batch_size == 3  # its own override
    assert loop.sets[1][1].num_workers == 0  # the main loader's option
    # reference: the model's fake scores per set, AUC by scikit-learn
    for name, ann, key in (('demo-test', 'test.json',
                            'demo-test/forgery/auc'),
                           ('demo-val', 'val.json', 'demo-val/auc')):
        loader = next(s[1] for s in loop.sets if s[0] == name)
        scores, labels = [], []
        with torch.no_grad():
            for batch in loader:
                for ds in runner.model.test_step(batch):
                    scores.append(float(ds.pred_score[1]))
                    labels.append(int(ds.gt_label))
        with open(osp.join(tiny_demo_data, ann)) as f:
            assert len(labels) == len(json.load(f)['data_list'])
        assert len(set(labels)) == 2
        want = 100 * roc_auc_score(labels, scores)
        assert metrics[key] == pytest.approx(want, abs=1e-6), name
    assert set(k.split('/')[0] for k in metrics) == {'demo-test', 'demo-val'}
    # the main set keeps its evaluator's keys under its name
    assert 'demo-test/map/paired_auc' in metrics
    assert not any(k.startswith('demo-val/map') for k in metrics)


@pytest.mark.parametrize('extra, msg', [
    ([dict(name='demo-test', dataset={}, evaluator=[])], 'used twice'),
    ([dict(name='x', dataset={})], "missing \\['evaluator'\\]"),
    ([dict(name='a/b', dataset={}, evaluator=[])], 'without "/"'),
    ([dict(name='x', dataset={}, evaluator=[], sampler=None)],
     "unknown \\['sampler'\\]"),
])
def test_bad_extra_sets(tiny_demo_data, tiny_ckpt, tmp_path, extra, msg):
    runner = _runner(tiny_demo_data, tmp_path, tiny_ckpt, extra=extra)
    with pytest.raises((ValueError, KeyError), match=msg):
        runner.test()


def test_tools_test_runs_both_sets(tiny_demo_data, tiny_ckpt, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    env.pop('MMFOCUS_DEBUG', None)
    work = str(tmp_path / 'work')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', CFG, tiny_ckpt, '--work-dir', work,
         '--cfg-options'] + _opts(tiny_demo_data),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    assert 'cross-dataset test results:' in text
    assert 'testing on demo-val: ' in text
    logs = [osp.join(d, f) for d, _, fs in os.walk(work) for f in fs
            if f.endswith('.json') and osp.basename(d) == f[:-5]]
    assert len(logs) == 1
    with open(logs[0]) as f:
        final = json.load(f)
    # the last epoch log holds every set's metrics
    for key in ('demo-test/forgery/auc', 'demo-test/forgery/acc',
                'demo-val/auc', 'demo-val/eer'):
        assert np.isfinite(final[key]), key
    # the map hook wrote maps of both sets
    raws = os.listdir(osp.join(work, 'maps', 'test', 'raw'))
    with open(osp.join(tiny_demo_data, 'test.json')) as f:
        n_test = len(json.load(f)['data_list'])
    with open(osp.join(tiny_demo_data, 'val.json')) as f:
        n_val = len(json.load(f)['data_list'])
    assert len(raws) == n_test + n_val


@pytest.mark.parametrize('path, base, main', [
    ('configs/focus/vit-s_ffpp-hq_cross.py', 'configs/focus/vit-s_ffpp-hq.py',
     'ffpp-c23'),
    ('configs/focus/vit-s_ffpp-lq_cross.py', 'configs/focus/vit-s_ffpp-lq.py',
     'ffpp-c40'),
    ('configs/multitask/efb4-fpn_focus_ffpp-c40_cross.py',
     'configs/multitask/efb4-fpn_focus_ffpp-c40.py', 'ffpp-c40'),
])
def test_cross_dataset_configs(path, base, main):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, path))
    ref = Config.fromfile(osp.join(ROOT, base))
    assert cfg.test_cfg.type == 'MultiDatasetTestLoop'
    assert cfg.test_cfg.name == main
    extra = cfg.test_cfg.extra
    assert [e['name'] for e in extra] == ['celebdf-v2', 'dfdc', 'dfdcp',
                                          'wdf']
    for e in extra:
        assert e['dataset']['type'] == 'FaceForgeryDataset'
        assert e['dataset']['data_root'] == f"data/{e['name']}"
        assert e['dataset']['ann_file'] == 'test.json'
        assert e['evaluator'] == [dict(type='ForgeryMetric',
                                       prefix=e['name'])]
    # the main test set, the training and the model are the base config's
    for key in ('test_dataloader', 'test_evaluator', 'train_dataloader',
                'val_dataloader', 'model', 'train_cfg'):
        assert cfg[key] == ref[key], key
