"""find_resume_checkpoint / resolve_resume: which checkpoint an automatic
``--resume`` continues from (the tool runs are in
tests/test_tools/test_reliability.py)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmfocus.apis.runner import resolve_resume
from mmfocus.utils.resume import checkpoint_problem, find_resume_checkpoint


def _ckpt(path, it=0):
    torch.save(dict(meta=dict(iter=it), state_dict=dict(w=torch.ones(4))),
               str(path))
    return str(path)


def _truncated(path):
    _ckpt(path)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    return str(path)


def test_empty_work_dir_is_a_fresh_start(tmp_path):
    assert find_resume_checkpoint(str(tmp_path)) == (None, [])
    assert find_resume_checkpoint(str(tmp_path / 'not_yet')) == (None, [])


def test_newest_by_number_not_by_name(tmp_path):
    for it in (2, 9, 10):
        _ckpt(tmp_path / f'iter_{it}.pth', it)
    _ckpt(tmp_path / 'best_forgery_auc_iter_12.pth')  # no optimizer state
    (tmp_path / '.iter_14.pth.123.tmp').write_bytes(b'half')
    path, warnings = find_resume_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'iter_10.pth')
    assert 'no last_checkpoint' in warnings[0]


def test_epoch_template(tmp_path):
    _ckpt(tmp_path / 'iter_8.pth')
    _ckpt(tmp_path / 'epoch_3.pth')
    path, _ = find_resume_checkpoint(str(tmp_path), 'epoch_{}.pth')
    assert path == str(tmp_path / 'epoch_3.pth')


def test_last_checkpoint_outside_work_dir(tmp_path):
    work, elsewhere = tmp_path / 'work', tmp_path / 'ckpts'
    work.mkdir()
    elsewhere.mkdir()
    target = _ckpt(elsewhere / 'iter_4.pth')
    (work / 'last_checkpoint').write_text(target)
    # not in the work dir: the recorded file (a CheckpointHook out_dir)
    path, warnings = find_resume_checkpoint(str(work))
    assert path == target and 'outside the work dir' in warnings[0]
    # a file of that name in the work dir wins (a copied work dir)
    local = _ckpt(work / 'iter_4.pth')
    path, warnings = find_resume_checkpoint(str(work))
    assert path == local and 'copied work dir' in warnings[0]


def test_stale_or_truncated_last_checkpoint_falls_back(tmp_path):
    _ckpt(tmp_path / 'iter_2.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_6.pth'))
    path, warnings = find_resume_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'iter_2.pth')
    assert 'does not exist' in warnings[0]
    newest = _truncated(tmp_path / 'iter_4.pth')
    (tmp_path / 'last_checkpoint').write_text(newest)
    path, warnings = find_resume_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'iter_2.pth')
    assert any(w.startswith(f'skipping {newest}') for w in warnings)


def test_no_complete_checkpoint_is_refused(tmp_path):
    a = _truncated(tmp_path / 'iter_2.pth')
    b = tmp_path / 'iter_4.pth'
    b.write_bytes(b'')
    with pytest.raises(RuntimeError) as exc:
        find_resume_checkpoint(str(tmp_path))
    assert a in str(exc.value) and str(b) in str(exc.value)
    assert checkpoint_problem(str(b)) == 'empty (0 bytes)'
    assert checkpoint_problem(_ckpt(tmp_path / 'ok.pth')) is None


def test_resolve_resume_sets_load_from(tmp_path):
    cfg = Config(dict(work_dir=str(tmp_path), resume=True, load_from=None,
                      default_hooks=dict(checkpoint=dict(
                          type='AtomicCheckpointHook', by_epoch=False))))
    assert resolve_resume(cfg) == [f'--resume: no checkpoint in {tmp_path}; '
                                   'training from scratch']
    assert cfg.resume is False and cfg.load_from is None
    cfg.resume = True
    target = _ckpt(tmp_path / 'iter_2.pth')
    resolve_resume(cfg)
    assert cfg.resume is True and cfg.load_from == target
    # an explicit checkpoint (--resume FILE) is left alone
    cfg.load_from = 'explicit.pth'
    assert resolve_resume(cfg) == [] and cfg.load_from == 'explicit.pth'
    assert osp.isfile(target)
