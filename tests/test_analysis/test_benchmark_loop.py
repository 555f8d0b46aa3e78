"""The training-loop benchmark (mmfocus.analysis.benchmark.loop and
tools/analysis/benchmark_loop.py) on the tiny FoCus config, and the
RandomFaceDataset it trains on."""
import json
import os.path as osp

import pytest
import torch

from mmfocus.analysis.benchmark import LoopClock, make_samples
from mmfocus.datasets import RandomFaceDataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')


def test_random_face_dataset():
    data = RandomFaceDataset(3, (8, 6), with_masks=True, seed=1)
    a, b = data[0], data[3]  # reads wrap around
    assert a['inputs'].shape == (3, 8, 6) and a['inputs'].dtype == torch.uint8
    assert torch.equal(a['inputs'], b['inputs'])
    assert a['data_samples'] is not b['data_samples']  # a fresh one per read
    assert a['data_samples'].gt_mask.shape == (8, 6)
    assert [int(data[i]['data_samples'].gt_label) for i in range(3)] == \
        [0, 1, 0]
    del a['data_samples'].gt_mask  # editing a read leaves the next intact
    assert 'gt_mask' in data[0]['data_samples']
    again = RandomFaceDataset(3, (8, 6), seed=1)
    assert torch.equal(again[2]['inputs'], data[2]['inputs'])
    assert not torch.equal(RandomFaceDataset(3, (8, 6), seed=2)[2]['inputs'],
                           data[2]['inputs'])
    assert 'gt_mask' not in RandomFaceDataset(1, (4, 4), with_masks=False)[0][
        'data_samples']
    # the benchmark's batch is this dataset's samples
    s = make_samples(3, (8, 6), seed=1)
    assert all(torch.equal(s[i]['inputs'], data[i]['inputs'])
               for i in range(3))
    with pytest.raises(ValueError, match='num_samples'):
        RandomFaceDataset(0, (4, 4))
    with pytest.raises(ValueError, match='shape'):
        RandomFaceDataset(1, (4,))


def test_loop_clock_needs_a_warmup():
    with pytest.raises(ValueError, match='warmup >= 1'):
        LoopClock(0, 5)
    with pytest.raises(RuntimeError, match='did not all run'):
        LoopClock(1, 5).seconds_per_iter


def test_benchmark_loop_tool(tmp_path, load_tool):
    tool = load_tool('tools/analysis/benchmark_loop.py')
    out = tmp_path / 'loop.json'
    res = tool.main([TINY, '--device', 'cpu', '--batch-size', '2',
                     '--warmup', '1', '--iters', '3', '--repeats', '2',
                     '--log-interval', '2', '--threads', '1',
                     '--out', str(out)])
    assert res['setting']['target'] == 0.9
    assert list(res['runs']) == ['config', 'mmengine']
    for name, hook in (('config', 'DeferredRuntimeInfoHook'),
                       ('mmengine', 'RuntimeInfoHook')):
        v = res['variants'][name]
        assert len(res['runs'][name]) == 2
        assert v['loop']['n'] == v['step']['n'] == 2
        assert v['loop']['img_s'] == pytest.approx(
            2 / v['loop']['median_s'])
        share = v['loop_share_of_step']
        assert share['ratio'] > 0 and share['q1'] <= share['ratio'] <= \
            share['q3']
        # the per-iteration hooks were timed, the runtime-info one included
        assert hook in v['hooks_s'] and 'IterTimerHook' in v['hooks_s']
        other = ({'DeferredRuntimeInfoHook', 'RuntimeInfoHook'} - {hook})
        assert other.isdisjoint(v['hooks_s'])
        assert v['data_s'] is not None and v['data_s'] >= 0
    assert res['variants']['_paired_loops']['a'] == 'config'
    assert json.loads(out.read_text())['setting']['batch_size'] == 2


def test_benchmark_loop_tool_errors(tmp_path, run_cli):
    rc, _, err = run_cli('tools/analysis/benchmark_loop.py',
                         [TINY, '--warmup', '0'])
    assert rc == 2 and '--warmup' in err
    rc, _, err = run_cli('tools/analysis/benchmark_loop.py',
                         [str(tmp_path / 'missing.py'), '--device', 'cpu'])
    assert rc != 0 and 'missing.py' in err
