"""The reliability rows of docs/en/notes/reliability.md that the tools
meet end to end: ``--resume`` without or with a stale ``last_checkpoint``,
a truncated checkpoint, a full disk during training, test and inference
(tools run as a user runs them, on the tiny FoCus and tiny demo data).

A full disk is simulated by ``tests/data/disk_full.py`` (imported through
the config's ``custom_imports``): writes to paths containing one of the
substrings in ``MMFOCUS_TEST_DISK_FULL`` write half their bytes, then fail
with ``ENOSPC``."""
import errno
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
PHOTO = osp.join(ROOT, 'demo', 'faces', 'photos', '2008_001009.jpg')
ENOSPC = os.strerror(errno.ENOSPC)  # 'No space left on device'


def _env(**extra):
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + os.pathsep + osp.join(ROOT, 'tests', 'data')
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    env.pop('MMFOCUS_DEBUG', None)
    env.pop('MMFOCUS_TEST_DISK_FULL', None)
    env.update(extra)
    return env


def run_tool(args, check=True, **env):
    proc = subprocess.run([sys.executable] + args, cwd=ROOT, env=_env(**env),
                          capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def _opts(root):
    return [f'{k}_dataloader.dataset.data_root={root}'
            for k in ('train', 'val', 'test')] + ['train_cfg.val_interval=100']


def _train(work, data, *extra, cfg=CFG, check=True, **env):
    return run_tool(['tools/train.py', cfg, '--work-dir', str(work)] +
                    [a for a in extra if a.startswith('--resume')] +
                    ['--cfg-options'] + _opts(data) +
                    [a for a in extra if not a.startswith('--')],
                    check=check, **env)


def _disk_full_cfg(tmp_path):
    cfg = tmp_path / 'disk_full_cfg.py'
    cfg.write_text(
        f"_base_ = ['{CFG}']\n"
        "custom_imports = dict(imports=['mmfocus', 'disk_full'],\n"
        "                      allow_failed_imports=False)\n")
    return str(cfg)


def _snapshot(work):
    """``{name: (bytes, mtime_ns)}`` of the checkpoints in ``work``."""
    snap = {}
    for name in sorted(os.listdir(work)):
        if name.endswith('.pth'):
            path = osp.join(work, name)
            with open(path, 'rb') as f:
                snap[name] = (f.read(), os.stat(path).st_mtime_ns)
    return snap


def _meta_iter(path):
    return torch.load(path, weights_only=True)['meta']['iter']


def _hidden_tmp(folder):
    return [n for _, _, names in os.walk(folder) for n in names
            if n.endswith('.tmp')]


@pytest.fixture(scope='module')
def trained(tiny_demo_data, tmp_path_factory):
    """A 4-iteration run: iter_2.pth, iter_4.pth, last_checkpoint."""
    work = str(tmp_path_factory.mktemp('trained'))
    _train(work, tiny_demo_data)
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == \
        ['iter_2.pth', 'iter_4.pth']
    return work


def _copy(trained, dst):
    shutil.copytree(trained, dst)  # copy2: mtimes kept
    return str(dst)


# ------------------------------------------------------------- resume
def test_resume_without_last_checkpoint_continues_from_newest(
        trained, tiny_demo_data, tmp_path):
    work = _copy(trained, tmp_path / 'work')
    os.remove(osp.join(work, 'last_checkpoint'))
    before = _snapshot(work)
    proc = _train(work, tiny_demo_data, '--resume', 'train_cfg.max_iters=6')
    out = proc.stdout
    assert 'no last_checkpoint' in out and 'iter_4.pth' in out
    assert 'resumed epoch: 0, iter: 4' in out
    assert 'latest checkpoint None' not in out
    after = _snapshot(work)
    # nothing rewritten: same bytes, same mtimes; the run went on to 6
    assert {k: after[k] for k in before} == before
    assert set(after) == {'iter_2.pth', 'iter_4.pth', 'iter_6.pth'}
    assert _meta_iter(osp.join(work, 'iter_6.pth')) == 6
    assert open(osp.join(work, 'last_checkpoint')).read() == \
        osp.join(work, 'iter_6.pth')


def test_resume_in_copied_work_dir_uses_its_own_checkpoint(
        trained, tiny_demo_data, tmp_path):
    orig = _copy(trained, tmp_path / 'orig')
    with open(osp.join(orig, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(orig, 'iter_4.pth'))  # absolute, as mmengine does
    copy = _copy(orig, tmp_path / 'copy')
    # the original's iter_4.pth now holds iteration 2: resuming from the
    # file last_checkpoint names would continue from 2
    shutil.copy2(osp.join(orig, 'iter_2.pth'), osp.join(orig, 'iter_4.pth'))
    orig_before = _snapshot(orig)
    proc = _train(copy, tiny_demo_data, '--resume', 'train_cfg.max_iters=6')
    out = proc.stdout
    assert 'resumed epoch: 0, iter: 4' in out
    assert osp.join(orig, 'iter_4.pth') in out and 'copied work dir' in out
    assert f'Load checkpoint from {osp.join(copy, "iter_4.pth")}' in out
    assert open(osp.join(copy, 'last_checkpoint')).read() == \
        osp.join(copy, 'iter_6.pth')
    assert _snapshot(orig) == orig_before


def test_resume_skips_truncated_newest_checkpoint(trained, tiny_demo_data,
                                                  tmp_path):
    work = _copy(trained, tmp_path / 'work')
    newest = osp.join(work, 'iter_4.pth')
    data = open(newest, 'rb').read()
    with open(newest, 'wb') as f:
        f.write(data[:len(data) // 2])  # a save cut short
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(newest)
    iter_2 = _snapshot(work)['iter_2.pth']
    proc = _train(work, tiny_demo_data, '--resume')
    out = proc.stdout
    assert f'skipping {newest}' in out
    assert 'resumed epoch: 0, iter: 2' in out
    assert _snapshot(work)['iter_2.pth'] == iter_2
    assert _meta_iter(newest) == 4  # complete again: trained 3 and 4


def test_resume_refuses_when_no_checkpoint_is_complete(tiny_demo_data,
                                                       tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'iter_2.pth').write_bytes(b'PK\x03\x04' + b'\0' * 100)
    proc = _train(work, tiny_demo_data, '--resume', check=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith('error:') and 'iter_2.pth' in lines[-1]
    assert 'Traceback' not in proc.stderr
    assert (work / 'iter_2.pth').read_bytes() == \
        b'PK\x03\x04' + b'\0' * 100


# ---------------------------------------------------------- full disk
def test_full_disk_during_checkpoint_save_keeps_the_previous_one(
        tiny_demo_data, tmp_path):
    work = str(tmp_path / 'work')
    cfg = _disk_full_cfg(tmp_path)
    # max_keep_ckpts=1: mmengine would delete iter_2.pth before saving
    # iter_4.pth
    proc = _train(work, tiny_demo_data,
                  'default_hooks.checkpoint.max_keep_ckpts=1', cfg=cfg,
                  check=False, MMFOCUS_TEST_DISK_FULL='iter_4')
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {osp.join(work, "iter_4.pth")}: '
                           f'{ENOSPC}'), last
    assert sorted(n for n in os.listdir(work) if n.endswith('.pth')) == \
        ['iter_2.pth']
    assert _meta_iter(osp.join(work, 'iter_2.pth')) == 2  # complete
    assert not _hidden_tmp(work)
    assert open(osp.join(work, 'last_checkpoint')).read() == \
        osp.join(work, 'iter_2.pth')
    # space freed: --resume continues from iter_2.pth to the end
    proc = _train(work, tiny_demo_data, '--resume',
                  'default_hooks.checkpoint.max_keep_ckpts=1', cfg=cfg)
    assert 'resumed epoch: 0, iter: 2' in proc.stdout
    assert _meta_iter(osp.join(work, 'iter_4.pth')) == 4
    assert not osp.exists(osp.join(work, 'iter_2.pth'))  # outdated now


def test_test_tool_prints_metrics_when_map_writes_fail(trained,
                                                       tiny_demo_data,
                                                       tmp_path):
    work = str(tmp_path / 'test')
    proc = run_tool(['tools/test.py', _disk_full_cfg(tmp_path),
                     osp.join(trained, 'iter_4.pth'), '--work-dir', work,
                     '--cfg-options'] + _opts(tiny_demo_data), check=False,
                    MMFOCUS_TEST_DISK_FULL='/maps/,/vis/')
    assert proc.returncode == 1
    assert 'forgery/auc' in proc.stdout and 'map/paired_auc' in proc.stdout
    assert 'map writes failed (first: ' in proc.stdout
    assert 'figure writes failed (first: ' in proc.stdout
    assert 'Traceback' not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {osp.join(work, "maps", "test")}')
    assert ENOSPC in last and 'map writes failed' in last
    assert not _hidden_tmp(work)


# ---------------------------------------------------------- inference
@pytest.fixture
def infer_tool(run_cli, monkeypatch):
    """``infer_tool(args) -> (returncode, stdout, stderr)`` through the
    tool's ``cli_main`` in this process."""
    pytest.importorskip('dlib')
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)
    return lambda args: run_cli('tools/infer.py', args)


def _inputs(tmp_path):
    bad = tmp_path / 'notes.txt'
    bad.write_text('not an image')
    return [PHOTO, str(bad), PHOTO]


def _lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_infer_keeps_result_lines_when_the_final_write_fails(
        infer_tool, random_checkpoint, tmp_path, monkeypatch):
    # results.json is written by mmfocus.apis.outputs.save_results
    import mmfocus.apis.outputs as outputs_mod
    from mmfocus.utils.io import atomic_open

    def full_disk(path, obj, overwrite=True, indent=2):
        with atomic_open(path, 'w', overwrite=overwrite) as f:
            f.write(json.dumps(obj)[:100])
            raise OSError(errno.ENOSPC, ENOSPC)

    monkeypatch.setattr(outputs_mod, 'atomic_write_json', full_disk)
    out = str(tmp_path / 'out')
    rc, stdout, stderr = infer_tool(
        _inputs(tmp_path) + ['--config', CFG, '--checkpoint',
                             random_checkpoint(CFG), '--out-dir', out,
                             '--batch-size', '1', '--no-progress'])
    assert rc == 1
    err = stderr.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f'error: {osp.join(out, "results.json")}: '
                             f'{ENOSPC}')
    assert '3 of 3 results' in err[0]
    assert not osp.exists(osp.join(out, 'results.json'))
    assert not _hidden_tmp(out)
    lines = _lines(osp.join(out, 'results.jsonl'))
    assert [r['input'] for r in lines] == _inputs(tmp_path)
    assert lines[0]['faces'] and lines[0]['score'] is not None
    assert lines[1]['error'] and lines[1]['score'] is None
    # the summary still reaches the user, with the same scores
    assert f"{lines[0]['score']:.3f}" in stdout and 'notes.txt' in stdout


def test_infer_writes_each_result_as_it_is_finished(random_checkpoint,
                                                    tmp_path, monkeypatch):
    pytest.importorskip('dlib')
    import mmfocus.apis.inferencer as inferencer_mod
    from mmfocus.apis import FocusInferencer
    real = inferencer_mod.inference_model
    calls = []

    def dies_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt('killed')
        return real(*args, **kwargs)

    monkeypatch.setattr(inferencer_mod, 'inference_model',
                        dies_on_second_batch)
    inferencer = FocusInferencer(CFG, random_checkpoint(CFG), batch_size=1,
                                 show_progress=False)
    out = str(tmp_path / 'out')
    with pytest.raises(KeyboardInterrupt):
        inferencer(_inputs(tmp_path), out_dir=out)
    # the photo scored before the kill and the bad file are kept
    lines = _lines(osp.join(out, 'results.jsonl'))
    assert [r['input'] for r in lines] == _inputs(tmp_path)[:2]
    assert lines[0]['score'] is not None
    assert not osp.exists(osp.join(out, 'results.json'))
