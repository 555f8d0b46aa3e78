"""Map-generation throughput (mmfocus.analysis.benchmark.maps and
tools/analysis/benchmark_maps.py), and AMP in the map sources: the
model runs under autocast, and the maps stay close to the fp32 ones."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from mmfocus.analysis.benchmark import (amp_deviation, benchmark_map_sources,
                                        load_pairs, synthetic_pairs)
from mmfocus.apis import init_model
from mmfocus.maps.sources import build_map_source

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOCUS_TINY = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
VIT_TINY = osp.join(ROOT, 'tests', 'test_maps', 'vit_tiny.py')


@pytest.fixture(scope='module')
def focus_model():
    torch.manual_seed(0)
    return init_model(FOCUS_TINY)


def test_synthetic_pairs():
    fakes, twins = synthetic_pairs(3, 16, seed=1)
    assert len(fakes) == len(twins) == 3
    assert fakes[0].shape == (16, 16, 3) and fakes[0].dtype == np.uint8
    diff = np.abs(fakes[0].astype(int) - twins[0]).sum(-1) > 0
    # the fake differs from its twin exactly in the central square
    # (a pixel of value 127.5 cannot occur, so every one flips)
    assert diff[4:12, 4:12].all() and diff.sum() == 64
    with pytest.raises(ValueError):
        synthetic_pairs(0, 16)


def test_load_pairs(tiny_demo_data):
    ann = osp.join(tiny_demo_data, 'test.json')
    entries = json.load(open(ann))['data_list']
    paired = [e for e in entries if e['gt_label'] == 1 and e.get('pair_path')]
    n = len(paired) + 2
    fakes, twins, distinct = load_pairs(ann, tiny_demo_data, n)
    assert distinct == len(paired) and len(fakes) == len(twins) == n
    np.testing.assert_array_equal(fakes[-1], fakes[1])  # cycled
    assert fakes[0].shape == twins[0].shape
    reals = osp.join(osp.dirname(ann), 'reals_only.json')
    json.dump(dict(metainfo={}, data_list=[e for e in entries
                                           if e['gt_label'] == 0]),
              open(reals, 'w'))
    with pytest.raises(ValueError, match='no fake with a pair_path'):
        load_pairs(reals, tiny_demo_data, 2)


def test_amp_runs_the_model_under_autocast(focus_model):
    """compute(amp='bf16') runs the model's forward under CPU autocast,
    and without it not (a forward hook records the state)."""
    seen = []
    handle = focus_model.register_forward_pre_hook(
        lambda m, a: seen.append(torch.is_autocast_enabled('cpu')))
    fakes, _ = synthetic_pairs(2, 32)
    src = build_map_source('focus')
    try:
        fp32 = src.compute(fakes, model=focus_model)
        low = src.compute(fakes, model=focus_model, amp='bf16')
    finally:
        handle.remove()
    assert seen == [False, True]
    assert all(m.dtype == np.float32 and m.shape == (32, 32)
               for m in fp32 + low)
    with pytest.raises(ValueError, match='amp must be one of'):
        src.compute(fakes, model=focus_model, amp='int8')


def test_amp_deviation_is_measured(focus_model):
    """The same source with amp='none' deviates by exactly 0; bf16 maps
    stay within the stated tolerance (docs/en/useful_tools/benchmark.md:
    mean |diff| < 0.01, pixel r > 0.99) on a random tiny FoCus."""
    fakes, _ = synthetic_pairs(4, 32)
    src = build_map_source('focus')
    same = amp_deviation(src, focus_model, fakes, None, 4, 'none')
    assert same['max_abs'] == 0 and same['faces'] == 4
    d = amp_deviation(src, focus_model, fakes, None, 4, 'bf16')
    assert d['mean_abs'] < 0.01 and d['pixel_corr'] > 0.99, d


def test_benchmark_map_sources(focus_model):
    fakes, twins = synthetic_pairs(4, 32)
    sources = {'ssim': (build_map_source('ssim'), None),
               'focus': (build_map_source('focus'), focus_model)}
    res = benchmark_map_sources(sources, fakes, twins, batch_size=2,
                                warmup=0, repeats=2, amp='bf16')
    assert list(res['sources']) == ['ssim', 'focus']
    for label, r in res['sources'].items():
        assert r['faces'] == 4 and len(r['times_s']) == 2
        assert r['faces_s'] == pytest.approx(4 / r['median_s'])
        assert r['faces_s_q1'] <= r['faces_s'] <= r['faces_s_q3']
        assert r['ms_per_face'] == pytest.approx(1e3 * r['median_s'] / 4)
    assert 'amp_deviation' not in res['sources']['ssim']
    assert res['sources']['focus']['amp_deviation']['amp'] == 'bf16'
    assert res['sources']['focus']['model'] == 'FoCus'
    with pytest.raises(ValueError, match='needs the real twin'):
        benchmark_map_sources(sources, fakes, None, warmup=0, repeats=1)
    with pytest.raises(ValueError, match='needs a model'):
        benchmark_map_sources({'f': (build_map_source('focus'), None)},
                              fakes, warmup=0, repeats=1)


def test_tool(load_tool, tmp_path, capsys):
    tool = load_tool('tools/analysis/benchmark_maps.py')
    out = tmp_path / 'maps.json'
    threads = torch.get_num_threads()
    try:
        res = tool.main(['--synthetic', '32', '--faces', '3', '--batch-size',
                         '2', '--repeats', '1', '--warmup', '0', '--device',
                         'cpu', '--amp', 'bf16', '--no-progress', '--out',
                         str(out), '--threads', '1', '--score-batch-size',
                         '8', '--source', 'pixdiff',
                         f'attention={FOCUS_TINY}', f'gradcam={VIT_TINY}'])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    text = capsys.readouterr().out
    assert '| pixdiff | - |' in text and 'bf16 vs fp32' in text
    saved = json.load(open(out))
    assert list(saved['sources']) == ['pixdiff', 'attention', 'gradcam']
    # the attention source of a FoCus config is its -CARP model
    assert saved['sources']['attention']['model'] == 'FoCus'
    assert saved['data'] == dict(kind='synthetic', size=32)
    assert res['sources']['gradcam']['amp_deviation']['faces'] == 2
    main = tool.cli_main(tool.main)
    for argv, msg in ((['--synthetic', '32', '--source', 'focus'],
                       'needs a model'),
                      (['--synthetic', '32', '--source', 'nope'],
                       'unknown map source'),
                      (['--synthetic', '32', '--source',
                        f'ssim={FOCUS_TINY}'], 'takes no model')):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 1
        assert msg in capsys.readouterr().err


def test_table_rates_keep_slow_sources_readable(load_tool):
    rate = load_tool('tools/analysis/benchmark_maps.py')._rate
    assert rate(415.83) == '415.8' and rate(1.04) == '1.0'
    # ScoreCAM of a ViT-S on a CPU: not printed as 0.1
    assert rate(0.06496) == '0.065' and rate(0.1234) == '0.123'
