"""The benchmark library and tools/analysis/benchmark.py on a tiny config.

Only behaviour is checked (interleaving, statistics against Python's
``statistics`` module, the reference against timm's published DeiT-S size,
steps that really train or only infer, memory seen, the data pipeline, the
tool's table and JSON), never a wall-clock time.
"""
import json
import math
import os
import os.path as osp
import statistics
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from mmfocus.analysis import benchmark as B
from mmfocus.models import FoCus

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis', 'benchmark.py')
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')

# mmpretrain 1.2.0 configs/deit/metafile.yml: DeiT-S has 22,050,664
# parameters with its 384 x 1000 ImageNet head; the reference uses a
# 2-class head (384 x 2 + 2).
DEIT_S_PARAMS = 22_050_664
DEIT_S_2CLASS = DEIT_S_PARAMS - (384 * 1000 + 1000) + (384 * 2 + 2)


def _tiny_focus():
    torch.manual_seed(0)
    return FoCus(
        backbone=dict(type='FoCusViT', arch='test', img_size=32,
                      patch_size=8, stem='conv', drop_path_rate=0.1),
        neck=dict(type='CARPNeck', k=4), head=dict(type='CARHead', k=4))


@pytest.fixture
def one_thread():
    """One torch thread: on a shared 2-core machine two spinning OpenMP
    threads per process make tiny steps hundreds of times slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _optim(model):
    from mmengine.optim import build_optim_wrapper
    return build_optim_wrapper(
        model, dict(type='OptimWrapper',
                    optimizer=dict(type='Adam', lr=1e-3)))


# ------------------------------------------------------------------ #
# timing and statistics
# ------------------------------------------------------------------ #
def test_interleaved_timings_alternate_after_warmup():
    log, syncs = [], []
    fns = {'a': lambda: log.append('a'), 'b': lambda: log.append('b')}
    times = B.interleaved_timings(fns, warmup=2, repeats=3, iters=2,
                                  sync=lambda: syncs.append(1))
    assert log == ['a', 'a', 'b', 'b'] * (2 + 3)
    assert sorted(times) == ['a', 'b']
    assert len(times['a']) == len(times['b']) == 3
    assert all(t >= 0 for t in times['a'] + times['b'])
    # one barrier after the warm-up, one before and after each sample
    assert len(syncs) == 1 + 2 * 2 * 3
    with pytest.raises(ValueError):
        B.interleaved_timings(fns, repeats=0)


def test_interleaved_timings_progress_bar(capsys):
    """A bar with its rate and ETA on stderr, one tick per callable per
    round; none without ``progress`` (the tools' --no-progress)."""
    fns = {'a': lambda: None, 'b': lambda: None}
    B.interleaved_timings(fns, warmup=1, repeats=2, progress='bench x')
    err = capsys.readouterr().err
    assert 'bench x' in err and '/6 [' in err and 'step/s' in err
    B.interleaved_timings(fns, warmup=1, repeats=2)
    assert capsys.readouterr().err == ''


def test_summarize_times_matches_statistics_module():
    t = [0.31, 0.12, 0.55, 0.2, 0.4, 0.27]
    s = B.summarize_times(t, images=8)
    q1, q2, q3 = statistics.quantiles(t, n=4, method='inclusive')
    assert s['median_s'] == pytest.approx(statistics.median(t))
    assert s['median_s'] == pytest.approx(q2)
    assert (s['q1_s'], s['q3_s']) == (pytest.approx(q1), pytest.approx(q3))
    assert (s['min_s'], s['max_s'], s['n']) == (0.12, 0.55, 6)
    assert s['img_s'] == pytest.approx(8 / statistics.median(t))
    assert s['img_s_q1'] <= s['img_s'] <= s['img_s_q3']
    with pytest.raises(ValueError):
        B.summarize_times([])


def test_paired_ratio():
    a = [2.0, 2.2, 4.0, 2.1]
    b = [1.0, 2.0, 2.0, 1.0]
    r = B.paired_ratio(a, b)
    pairs = [x / y for x, y in zip(a, b)]
    assert r['ratio'] == pytest.approx(statistics.median(pairs))
    q1, _, q3 = statistics.quantiles(pairs, n=4, method='inclusive')
    assert (r['q1'], r['q3']) == (pytest.approx(q1), pytest.approx(q3))
    assert r['min'] == pytest.approx(1.1) and r['max'] == pytest.approx(2.1)
    assert r['ratio_of_medians'] == pytest.approx(
        statistics.median(a) / statistics.median(b))
    # a slow moment hitting one pair does not move the paired ratio
    slow = B.paired_ratio([1.1, 1.1, 5.5], [1.0, 1.0, 5.0])
    assert slow['ratio'] == pytest.approx(1.1)
    with pytest.raises(ValueError, match='differ'):
        B.paired_ratio([1.0], [1.0, 2.0])


def test_workers_needed():
    assert B.workers_needed(3000, 200) == 15
    assert B.workers_needed(3000, 3000) == 1
    assert B.workers_needed(10, 3000) == 1
    assert B.workers_needed(3001, 1000) == 4
    assert B.workers_needed(None, 100) is None
    assert B.workers_needed(100, 0) is None


def test_memory_probe_sees_a_live_allocation():
    probe = B.MemoryProbe('cpu')
    assert probe.method in ('rss_sampled', 'ru_maxrss')
    if probe.method != 'rss_sampled':
        pytest.skip('no /proc/self/status: only a lower bound available')
    probe.start()
    x = torch.ones(16 << 20)  # 64 MiB, written, kept alive until stop()
    seen = probe.stop()
    assert seen >= 0.9 * x.numel() * x.element_size()
    del x


# ------------------------------------------------------------------ #
# the reference
# ------------------------------------------------------------------ #
def test_parse_reference():
    assert B.parse_reference('none') is None
    assert B.parse_reference(None) is None
    assert B.parse_reference('deit_small_patch16_224') == (
        'timm', 'deit_small_patch16_224')
    kind, kw = B.parse_reference('vit-test')
    assert kind == 'vit' and kw == dict(embed_dim=64, depth=2, num_heads=2,
                                        patch_size=8, mlp_ratio=2.0)
    kind, kw = B.parse_reference('vit:dim=96,heads=3')
    assert kw == dict(embed_dim=96, depth=12, num_heads=3, patch_size=16,
                      mlp_ratio=4.0)
    with pytest.raises(ValueError, match='unknown key'):
        B.parse_reference('vit:width=64')
    with pytest.raises(ValueError, match='divisible'):
        B.parse_reference('vit:dim=65,heads=2')
    with pytest.raises(ValueError, match='not a number'):
        B.parse_reference('vit:dim=abc')
    with pytest.raises(KeyError, match='unknown timm model'):
        B.parse_reference('no_such_model_xyz')


def test_deit_s_reference_is_two_timm_deit_s():
    pre = _tiny_focus().data_preprocessor
    ref = B.build_reference(B.parse_reference('deit_small_patch16_224'),
                            (224, 224), num_branches=2, drop_path_rate=0.1,
                            preprocessor=pre)
    assert len(ref.backbones) == 2
    assert all(type(m).__name__ == 'VisionTransformer'
               for m in ref.backbones)
    assert sum(p.numel() for p in ref.parameters()) == 2 * DEIT_S_2CLASS
    assert ref.backbones[0].blocks[-1].drop_path1.drop_prob == \
        pytest.approx(0.1)
    assert torch.equal(ref.data_preprocessor.mean, pre.mean)
    assert torch.equal(ref.data_preprocessor.std, pre.std)
    assert ref.data_preprocessor.to_rgb == pre.to_rgb
    assert ref.data_preprocessor.modalities == ('rgb', )
    assert B.build_reference(None, (224, 224)) is None


def test_reference_loss_is_cross_entropy_of_each_backbone():
    ref = B.build_reference(B.parse_reference('vit-test'), (32, 32)).eval()
    batch = B.make_batch(3, (32, 32))
    data = ref.data_preprocessor(batch, False)
    losses = ref(**data, mode='loss')
    assert sorted(losses) == ['loss_0', 'loss_1']
    # by hand: BGR -> RGB, ImageNet normalisation, timm forward, CE
    x = torch.stack(batch['inputs']).float().flip(1)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    x = (x - mean) / std
    labels = torch.tensor([0, 1, 0])
    for i, m in enumerate(ref.backbones):
        expected = F.cross_entropy(m(x), labels)
        torch.testing.assert_close(losses[f'loss_{i}'], expected)
    with pytest.raises(RuntimeError, match='Invalid mode'):
        ref(**data, mode='bad')


# ------------------------------------------------------------------ #
# batches and steps
# ------------------------------------------------------------------ #
def test_make_batch_like_pack_face_inputs_and_collate():
    from mmengine.dataset import default_collate
    b = B.make_batch(4, (32, 24))
    assert len(b['inputs']) == 4
    assert b['inputs'][0].shape == (3, 32, 24)
    assert b['inputs'][0].dtype == torch.uint8
    assert [int(ds.gt_label) for ds in b['data_samples']] == [0, 1, 0, 1]
    assert b['data_samples'][0].gt_mask.shape == (32, 24)
    assert 'gt_mask' not in B.make_batch(2, (8, 8), with_masks=False)[
        'data_samples'][0]
    stacked = B.make_batch(4, (32, 24), collate_fn=default_collate)
    assert stacked['inputs'].shape == (4, 3, 32, 24)
    # both collations give the model the same views
    pre = _tiny_focus().data_preprocessor
    a = pre(b)['inputs']
    c = pre(stacked)['inputs']
    for m in a:
        assert torch.equal(a[m], c[m])


def test_train_step_trains_and_infer_step_does_not(one_thread):
    model = _tiny_focus()
    optim = _optim(model)
    batch = B.make_batch(4, (32, 32))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    B.make_train_step(model, optim, batch)()
    after = model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any(k.startswith('backbones.rgb') for k in changed)
    assert any(k.startswith('backbones.sobel') for k in changed)
    assert any(k.startswith('cl_neck') for k in changed)
    assert all(p.grad is None for p in model.parameters())  # zero_grad
    assert len(optim.optimizer.state) > 0  # Adam state exists

    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logits, maps = B.make_infer_step(model, batch)()
    assert logits.shape == (4, 2) and maps.shape == (4, 4, 4)
    assert not logits.requires_grad
    assert all(torch.equal(before[k], v)
               for k, v in model.state_dict().items())
    preds = B.make_infer_step(model, batch, mode='predict')()
    assert len(preds) == 4 and preds[0].pred_map.shape == (32, 32)
    with pytest.raises(ValueError):
        B.make_infer_step(model, batch, mode='loss')


def test_benchmark_models_tiny(one_thread):
    model = _tiny_focus()
    ref = B.build_reference(B.parse_reference('vit-test'), (32, 32),
                            drop_path_rate=0.1,
                            preprocessor=model.data_preprocessor)
    models = {'model': model, 'reference': ref}
    optims = {n: _optim(m) for n, m in models.items()}
    batch = B.make_batch(2, (32, 32))
    res = B.benchmark_models(models, optims, batch, 2, warmup=1, repeats=2)
    for phase in ('train', 'infer'):
        for n in models:
            s = res[phase][n]
            assert s['n'] == 2 and s['median_s'] > 0 and s['img_s'] > 0
        r = res[phase]['ratio']
        assert r['ratio_of_medians'] == pytest.approx(
            res[phase]['model']['median_s'] /
            res[phase]['reference']['median_s'])
        pairs = [x / y for x, y in zip(res[phase]['model']['times_s'],
                                       res[phase]['reference']['times_s'])]
        assert r['ratio'] == pytest.approx(statistics.median(pairs))
    mem = res['memory']
    assert mem['method'] in ('rss_sampled', 'ru_maxrss')
    for n, m in models.items():
        params = sum(p.numel() * p.element_size() for p in m.parameters())
        assert mem['infer'][n]['static_mib'] >= params / 2**20
        # Adam keeps two moments per parameter
        assert mem['train'][n]['static_mib'] >= 3 * params / 2**20
        assert mem['train'][n]['total_mib'] >= mem['train'][n]['static_mib']
    assert model.training and ref.training  # restored


def test_preprocessor_benchmark_times_the_filters(one_thread):
    model = _tiny_focus()
    res = B.benchmark_preprocessor(model.data_preprocessor,
                                   B.make_batch(2, (32, 32)), 2, warmup=1,
                                   repeats=2)
    assert res['device'] == 'cpu'
    assert res['filter_names'] == ['sobel']
    assert res['preprocessor']['img_s'] > 0 and res['filters']['img_s'] > 0
    rgb_only = FoCus(backbone=dict(type='FoCusViT', arch='test', img_size=32,
                                   patch_size=8), modalities=('rgb', ),
                     neck=dict(type='CARPNeck', k=4),
                     head=dict(type='CARHead', k=4))
    res = B.benchmark_preprocessor(rgb_only.data_preprocessor,
                                   B.make_batch(2, (32, 32)), 2, repeats=1)
    assert res['filters'] is None and res['filter_names'] == []


# ------------------------------------------------------------------ #
# the data pipeline
# ------------------------------------------------------------------ #
def _tiny_train_dataset_cfg(data_root):
    from mmfocus.apis.runner import load_config
    cfg = load_config(CFG, [f'train_dataloader.dataset.data_root={data_root}'])
    return cfg.train_dataloader.dataset


def test_data_pipeline_on_tiny_demo_data(tiny_demo_data):
    res = B.benchmark_data_pipeline(_tiny_train_dataset_cfg(tiny_demo_data),
                                    batch_size=4, workers=0, samples=10)
    assert res['status'] == 'measured'
    # 10 items of the paired demo config: each a real and its own fake
    assert res['images'] == 20 and res['img_s'] > 0
    assert res['img_s_per_worker'] == res['img_s']  # main process
    # the demo config keeps the real faces only (fakes are blended online)
    ann = json.load(open(osp.join(tiny_demo_data, 'train.json')))
    reals = sum(d['gt_label'] == 0 for d in ann['data_list'])
    assert res['dataset_size'] == reals


def test_shard_comparison_on_tiny_demo_data(tiny_demo_data, tmp_path):
    """The same pipeline from PNG files and from packed shards of the same
    faces, alternating; the report prints the ratio."""
    res = B.benchmark_shard_comparison(
        _tiny_train_dataset_cfg(tiny_demo_data), batch_size=2, workers=0,
        samples=6, work_dir=str(tmp_path), rounds=2)
    assert res['status'] == 'measured' and res['subset'] == 6
    assert res['pack']['faces'] == 6 and res['pack']['shards'] >= 1
    for kind in ('png', 'shards'):
        r = res[kind]
        assert r['images'] == 12  # 6 pairs of the paired demo config
        assert len(r['img_s_rounds']) == 2 and r['load_ms_per_img'] > 0
        assert r['img_s'] == pytest.approx(statistics.median(
            r['img_s_rounds']))
    assert res['shards']['ann_file'].endswith(osp.join('packed',
                                                       'subset.json'))
    assert res['ratio'] == pytest.approx(res['shards']['img_s'] /
                                         res['png']['img_s'])
    assert res['time_saved'] == pytest.approx(1 - 1 / res['ratio'])
    text = B.format_report(_result(data_shards=res, targets=dict(
        gpu_train_img_s=3000.)))
    assert 'PNG vs packed shards' in text and f'{res["ratio"]:.3f}x' in text
    assert 'shards save' in text and 'loading alone' in text
    aim = B.workers_needed(3000, res['shards']['img_s_per_worker'])
    assert '3000 img/s GPU aim: PNG ' in text and \
        text.endswith(f'shards {aim}')


def test_data_pipeline_skipped_without_annotations(tmp_path):
    res = B.benchmark_data_pipeline(_tiny_train_dataset_cfg(str(tmp_path)),
                                    batch_size=4, workers=0, samples=10)
    assert res['status'] == 'skipped'
    assert 'annotation file not found' in res['reason']
    assert B.benchmark_data_pipeline({}, 4, 0, 0)['status'] == 'skipped'


# ------------------------------------------------------------------ #
# the tool
# ------------------------------------------------------------------ #
def _run(args, check=True):
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    env.pop('MMFOCUS_DEBUG', None)
    proc = subprocess.run([sys.executable, TOOL] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def test_tool_on_tiny_config(tiny_demo_data, tmp_path):
    out = tmp_path / 'bench.json'
    proc = _run([CFG, '--reference', 'vit-test', '--batch-size', '2',
                 '--warmup', '1', '--repeats', '2', '--threads', '1',
                 '--workers', '1', '--data-samples', '6', '--out', str(out),
                 '--cfg-options',
                 f'train_dataloader.dataset.data_root={tiny_demo_data}'])
    text = proc.stdout
    assert 'train step [s]' in text and 'inference (tensor) [s]' in text
    assert 'ratio (paired IQR; of medians)' in text
    assert '2 x vit-test' in text
    assert 'img/s per worker' in text and 'workers needed' in text
    res = json.load(open(out))
    for phase in ('train', 'infer'):
        m, r = res['models'][phase]['model'], res['models'][phase]['reference']
        assert m['median_s'] > 0 and r['median_s'] > 0 and m['n'] == 2
        ratio = res['models'][phase]['ratio']
        assert ratio['ratio_of_medians'] == pytest.approx(
            m['median_s'] / r['median_s'])
        pairs = [x / y for x, y in zip(m['times_s'], r['times_s'])]
        assert ratio['ratio'] == pytest.approx(statistics.median(pairs))
        assert f'{ratio["ratio"]:.3f}x' in text  # the ratio is printed
    assert res['setting']['batch_size'] == 2
    assert res['setting']['shape'] == [32, 32]
    assert res['setting']['optimizer'] == 'AdamW'  # the demo config's
    assert res['env']['torch'] == torch.__version__
    assert res['env']['torch_threads'] == 1
    assert res['params']['model'] == sum(
        p.numel() for p in _tiny_focus().parameters())
    assert res['preprocessor']['filters']['img_s'] > 0
    data = res['data']
    # 6 items of the paired demo config: a real and its own fake each
    assert data['status'] == 'measured' and data['images'] == 12
    assert data['workers'] == 1 and data['img_s_per_worker'] > 0
    wn = res['workers_needed']
    assert wn['measured_train'] == B.workers_needed(
        res['models']['train']['model']['img_s'], data['img_s_per_worker'])
    assert wn['gpu_train_aim'] == math.ceil(3000 / data['img_s_per_worker'])
    # the tool's defaults of --train-target ... --gpu-infer-aim
    assert res['targets'] == dict(train_ratio=1.15, infer_ratio=1.10,
                                  gpu_train_img_s=3000., gpu_infer_img_s=1e4)
    assert '<= 1.15x' in text and '<= 1.10x' in text
    assert 'for the 3000 img/s GPU aim' in text
    assert res['models']['memory']['train']['model']['static_mib'] > 0


def test_tool_without_reference_and_data(tmp_path):
    out = tmp_path / 'bench.json'
    proc = _run([CFG, '--reference', 'none', '--batch-size', '2',
                 '--warmup', '0', '--repeats', '1', '--threads', '1',
                 '--no-memory', '--out', str(out), '--cfg-options',
                 f'train_dataloader.dataset.data_root={tmp_path}'])
    assert 'data pipeline: skipped (annotation file not found' in proc.stdout
    res = json.load(open(out))
    assert res['reference'] is None
    assert 'ratio' not in res['models']['train']
    assert res['models']['train']['model']['median_s'] > 0
    assert 'memory' not in res['models']
    assert res['data']['status'] == 'skipped' and res['workers_needed'] == {}


def test_tool_phases_infer_only_with_data(tiny_demo_data, tmp_path):
    out = tmp_path / 'bench.json'
    proc = _run([CFG, '--reference', 'vit-test', '--batch-size', '2',
                 '--warmup', '0', '--repeats', '1', '--threads', '1',
                 '--phases', 'infer', '--no-memory', '--workers', '0',
                 '--data-samples', '4', '--data-shards', '--out', str(out),
                 '--cfg-options',
                 f'train_dataloader.dataset.data_root={tiny_demo_data}'])
    res = json.load(open(out))
    # --data-shards: the same pipeline from packed shards, beside the PNGs
    shards = res['data_shards']
    assert shards['status'] == 'measured' and shards['png']['images'] == 8
    assert f'{shards["ratio"]:.3f}x' in proc.stdout
    assert 'PNG vs packed shards' in proc.stdout
    assert res['workers_needed']['gpu_train_aim_shards'] == \
        B.workers_needed(3000, shards['shards']['img_s_per_worker'])
    assert set(res['models']) == {'infer'}
    assert res['models']['infer']['ratio']['ratio'] > 0
    assert res['setting']['phases'] == ['infer']
    # the config's: pairs flattened, then default_collate
    assert res['setting']['collate_fn'] == 'mmfocus.flatten_collate'
    assert res['data']['status'] == 'measured'
    # no training throughput was measured: no worker count for it
    assert res['workers_needed']['measured_train'] is None
    assert 'inference (tensor)' in proc.stdout
    assert 'train step' not in proc.stdout


def _tool_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('_benchmark_tool', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize('args,message', [
    (['--amp', 'fp16', '--device', 'cpu'], '--amp fp16 needs CUDA'),
    (['--reference', 'vit:width=3'], 'unknown key'),
    (['--reference', 'no_such_model_xyz'], 'unknown timm model'),
    (['--device', 'tpu'], '--device'),
    (['--data-samples', '0'], 'config not found'),
])
def test_tool_bad_input_is_one_error_line(args, message, capsys, tmp_path,
                                          monkeypatch):
    """In-process through the same ``cli_main`` wrapper as the script."""
    from mmfocus.utils.cli import cli_main
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)
    tool = _tool_module()
    cfg = str(tmp_path / 'nope.py') if message == 'config not found' else CFG
    with pytest.raises(SystemExit) as e:
        cli_main(tool.main)([cfg] + args)
    assert e.value.code == 1
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith('error:')]
    assert len(errors) == 1 and message in errors[0], err
    assert 'Traceback' not in err


def test_tool_rejects_bad_numbers(capsys):
    tool = _tool_module()
    for args in (['--batch-size', '0'], ['--shape', '1', '2', '3'],
                 ['--repeats', '0'], ['--workers', '-1']):
        with pytest.raises(SystemExit) as e:
            tool.parse_args([CFG] + args)
        assert e.value.code == 2  # argparse usage error


def _result(**kw):
    times = B.summarize_times([0.2, 0.2], 2)
    ref = B.summarize_times([0.1, 0.1], 2)
    res = dict(
        config='c.py', reference='vit-test', reference_desc='2 x vit-test',
        env=dict(device='cpu', cpu='CPU', cpus=2, torch_threads=1,
                 torch='t', timm='t', mmengine='m', mmfocus='f', date='d'),
        setting=dict(batch_size=2, shape=[32, 32], amp='none', compile=None,
                     warmup=0, repeats=2, iters=1, infer_mode='tensor'),
        params=dict(model=10, reference=8),
        models=dict(train=dict(model=times, reference=ref,
                               ratio=B.paired_ratio([.2, .2], [.1, .1]))),
        data=dict(status='measured', workers=1, images=4, ann_file='a.json',
                  img_s=10., img_s_per_worker=10., rate_note='n'),
        workers_needed=dict(measured_train=1, gpu_train_aim=300,
                            gpu_train_aim_img_s=3000.))
    res.update(kw)
    return res


def test_report_judges_against_the_callers_targets():
    # the library holds no project targets: they come with the result ...
    assert not hasattr(B, 'TRAIN_TARGET') and not hasattr(B, 'GPU_TRAIN_AIM')
    text = B.format_report(_result(targets=dict(
        train_ratio=2.5, infer_ratio=1.1, gpu_train_img_s=3000.)))
    assert '2.000x' in text and '<= 2.50x met' in text
    assert '300 for the 3000 img/s GPU aim' in text
    # ... or as an argument, which wins
    text = B.format_report(_result(targets=dict(train_ratio=2.5)),
                           targets=dict(train_ratio=1.5))
    assert '<= 1.50x NOT met' in text
    # none: the ratio without a verdict
    text = B.format_report(_result(workers_needed=dict(measured_train=1)))
    assert '2.000x' in text and '<=' not in text
    assert text.endswith('1 for the measured training throughput')


def test_tool_targets_default_to_the_projects():
    tool = _tool_module()
    args = tool.parse_args([CFG])
    assert (args.train_target, args.infer_target) == (1.15, 1.10)
    assert (args.gpu_train_aim, args.gpu_infer_aim) == (3000., 10000.)
    args = tool.parse_args([CFG, '--train-target', '1.2',
                            '--gpu-train-aim', '2000'])
    assert (args.train_target, args.gpu_train_aim) == (1.2, 2000.)
    with pytest.raises(SystemExit):
        tool.parse_args([CFG, '--infer-target', '0'])
