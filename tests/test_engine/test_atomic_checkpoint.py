"""AtomicCheckpointHook: a checkpoint is complete or absent, the previous
one (and ``last_checkpoint``) survive a failed save, outdated and
previous-best checkpoints go only after the new one is complete, and every
shipped config uses the hook. A full disk is ``tests/data/disk_full.py``'s
patched writer; the runner is a small stand-in with mmengine's
``save_checkpoint`` signature (the real Runner path runs in
tests/test_tools/test_reliability.py)."""
import errno
import glob
import io
import os
import os.path as osp
import sys
import uuid

import pytest
import torch
from mmengine.fileio import LocalBackend
from mmengine.logging import MessageHub, MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tests', 'data'))


class _Runner:
    """What CheckpointHook uses of a Runner; ``save_checkpoint`` writes a
    torch checkpoint through mmengine's file backend, as Runner does."""

    def __init__(self, work_dir):
        self.work_dir = str(work_dir)
        name = f'atomic-{uuid.uuid4().hex}'
        self.message_hub = MessageHub.get_instance(name)
        self.logger = MMLogger.get_instance(name)
        self.iter = self.epoch = 0
        self.saved = []

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        save_optimizer=True, save_param_scheduler=True,
                        meta=None, by_epoch=True, backend_args=None):
        buf = io.BytesIO()
        torch.save(dict(meta=meta, state_dict=dict(w=torch.ones(256)),
                        message_hub=self.message_hub.state_dict()), buf)
        self.saved.append(filename)
        LocalBackend().put(buf.getvalue(), osp.join(out_dir, filename))


@pytest.fixture
def disk_full(monkeypatch):
    """``disk_full('iter_2')``: writes to matching paths fail (ENOSPC)."""
    import disk_full as mod
    monkeypatch.setattr(LocalBackend, 'put', mod.put)

    def arm(words):
        monkeypatch.setenv(mod.ENV, words)

    return arm


def _hook(runner, **kw):
    from mmfocus.engine.hooks import AtomicCheckpointHook
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, **kw)
    hook.before_train(runner)
    return hook


def _save(hook, runner, step):
    runner.iter = step
    hook._save_checkpoint_with_step(runner, step, dict(iter=step))


def _last(work):
    return open(osp.join(work, 'last_checkpoint')).read()


def _files(work):
    return sorted(n for n in os.listdir(work) if not n.startswith('20'))


def test_failed_save_keeps_previous_checkpoint_and_last_checkpoint(
        tmp_path, disk_full):
    work = str(tmp_path)
    runner = _Runner(work)
    hook = _hook(runner, max_keep_ckpts=1)
    _save(hook, runner, 1)
    assert _files(work) == ['iter_1.pth', 'last_checkpoint']
    first = open(osp.join(work, 'iter_1.pth'), 'rb').read()
    disk_full('iter_2')
    with pytest.raises(OSError) as exc:
        _save(hook, runner, 2)
    assert exc.value.errno == errno.ENOSPC
    assert exc.value.filename == osp.join(work, 'iter_2.pth')
    # no truncated iter_2.pth, no temp file; iter_1.pth kept although
    # max_keep_ckpts=1 (mmengine removes it before saving the next one)
    assert _files(work) == ['iter_1.pth', 'last_checkpoint']
    assert open(osp.join(work, 'iter_1.pth'), 'rb').read() == first
    assert _last(work) == osp.join(work, 'iter_1.pth')
    assert runner.message_hub.get_info('keep_ckpt_ids') == [1]
    disk_full('')  # space freed: the same hook saves step 2
    _save(hook, runner, 2)
    assert _files(work) == ['iter_2.pth', 'last_checkpoint']
    assert _last(work) == osp.join(work, 'iter_2.pth')
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), weights_only=True)
    assert ckpt['meta']['iter'] == 2
    assert ckpt['message_hub']['runtime_info']['keep_ckpt_ids'] == [2]


def test_outdated_checkpoint_removed_only_after_new_one_is_complete(
        tmp_path, monkeypatch):
    work = str(tmp_path)
    runner = _Runner(work)
    hook = _hook(runner, max_keep_ckpts=2)
    seen = []
    real_put = LocalBackend.put

    def spy(self, obj, filepath):
        seen.append((osp.basename(filepath), _files(work)))
        return real_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', spy)
    for step in (1, 2, 3):
        _save(hook, runner, step)
    name, present = seen[-1]
    assert name.startswith('.iter_3.pth.') and name.endswith('.tmp')
    assert 'iter_1.pth' in present  # still there while iter_3 is written
    assert _files(work) == ['iter_2.pth', 'iter_3.pth', 'last_checkpoint']


def test_previous_best_kept_until_new_best_is_complete(tmp_path, disk_full):
    work = str(tmp_path)
    runner = _Runner(work)
    hook = _hook(runner, save_best='acc', rule='greater')
    _save(hook, runner, 1)
    hook._save_best_checkpoint(runner, dict(acc=0.5))
    assert osp.isfile(osp.join(work, 'best_acc_iter_1.pth'))
    disk_full('best_acc_iter_2')
    runner.iter = 2
    with pytest.raises(OSError) as exc:
        hook._save_best_checkpoint(runner, dict(acc=0.7))
    assert exc.value.filename == osp.join(work, 'best_acc_iter_2.pth')
    assert osp.isfile(osp.join(work, 'best_acc_iter_1.pth'))
    assert not glob.glob(osp.join(work, '*best_acc_iter_2*'))
    assert 'save_checkpoint' not in vars(runner)  # the routing is undone
    assert isinstance(hook.file_backend, LocalBackend)


def test_new_best_replaces_previous_best(tmp_path):
    work = str(tmp_path)
    runner = _Runner(work)
    hook = _hook(runner, save_best='acc', rule='greater')
    _save(hook, runner, 1)
    hook._save_best_checkpoint(runner, dict(acc=0.5))
    runner.iter = 2
    _save(hook, runner, 2)
    hook._save_best_checkpoint(runner, dict(acc=0.7))
    assert sorted(glob.glob(osp.join(work, 'best_*'))) == \
        [osp.join(work, 'best_acc_iter_2.pth')]
    # the best checkpoint went through a temporary file too
    assert any(n.startswith('.best_acc_iter_2.pth.') for n in runner.saved)


def test_unfinished_temp_files_of_a_killed_run_are_removed(tmp_path):
    stale = tmp_path / '.iter_4.pth.12345.tmp'
    stale.write_bytes(b'half')
    other = tmp_path / '.notes.tmp'
    other.write_bytes(b'mine')
    _hook(_Runner(tmp_path))
    assert not stale.exists() and other.exists()


def test_shipped_configs_use_the_atomic_hook():
    from mmengine.config import Config
    configs = [p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                    recursive=True)
               if '_base_' not in p]
    trained = 0
    for path in configs:
        cfg = Config.fromfile(path)
        if not cfg.get('train_cfg'):
            continue  # e.g. configs/experiments/: protocols, no training
        trained += 1
        hook = (cfg.get('default_hooks') or {}).get('checkpoint')
        assert hook is not None and hook['type'] == 'AtomicCheckpointHook', \
            path
    assert trained >= 5
