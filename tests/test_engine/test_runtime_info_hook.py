"""DeferredRuntimeInfoHook: the message hub, the logged scalars.json and a
checkpoint's message hub end up exactly as with mmengine's RuntimeInfoHook,
while the training log variables are read back to the host only once per
interval (reference: mmengine's own hook in a real Runner, and torch's
``Tensor.item``)."""
import json
import os.path as osp
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmfocus.engine.hooks import DeferredRuntimeInfoHook
from mmfocus.engine.hooks.runtime_info_hook import _to_host


class _Toy(BaseModel):
    """A linear model with three log variables: a float32 loss, a count
    and a bfloat16 value (mmengine averages each, so no integer one)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        x = torch.stack(list(inputs)) if isinstance(inputs, list) else inputs
        y = self.fc(x).squeeze(1)
        if mode == 'loss':
            t = torch.stack(list(targets)) if isinstance(targets, list) \
                else targets
            loss = ((y - t) ** 2).mean()
            return dict(loss=loss, hits=(y.detach() > 0).sum().float(),
                        half=(loss.detach() / 2).to(torch.bfloat16))
        return y


class _Data(Dataset):

    def __len__(self):
        return 64

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(inputs=torch.randn(4, generator=g),
                    targets=torch.randn((), generator=g))


class _Probe(Hook):
    """Records, after every iteration, how many train/loss values the
    message hub holds and how often Tensor.item ran in the iteration."""
    priority = 'LOWEST'

    def __init__(self):
        self.lengths = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        hist = runner.message_hub.log_scalars.get('train/loss')
        self.lengths.append(0 if hist is None else len(hist.data[0]))


def _run(tmp_path, runtime_info, iters=7, interval=3, ckpt_interval=100):
    probe = _Probe()
    torch.manual_seed(0)  # the same initial weights in every run
    work = osp.join(str(tmp_path), uuid.uuid4().hex[:8])
    runner = Runner(
        model=_Toy(), work_dir=work,
        experiment_name=f'rt-{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=_Data(), batch_size=4, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            runtime_info=runtime_info,
            logger=dict(type='LoggerHook', interval=interval),
            checkpoint=dict(type='CheckpointHook', by_epoch=False,
                            interval=ckpt_interval)),
        custom_hooks=[probe],
        log_processor=dict(by_epoch=False, window_size=interval),
        randomness=dict(seed=0), default_scope='mmfocus')
    runner.train()
    hub = {k: list(v.data[0]) for k, v in runner.message_hub.log_scalars.items()
           if k.startswith('train/') and k not in ('train/time',
                                                     'train/data_time')}
    logged = [json.loads(ln) for ln in open(osp.join(
        runner.log_dir, 'vis_data', 'scalars.json'))]
    for row in logged:
        row.pop('time', None)
        row.pop('data_time', None)
    return runner, hub, logged, probe.lengths


def test_same_message_hub_and_logs_as_mmengine(tmp_path):
    _, hub_ref, log_ref, len_ref = _run(tmp_path, dict(type='RuntimeInfoHook'))
    _, hub, log, lengths = _run(tmp_path,
                                dict(type='DeferredRuntimeInfoHook'))
    assert set(hub) == set(hub_ref) >= {'train/loss', 'train/hits',
                                        'train/half', 'train/lr'}
    for key in hub_ref:
        assert hub[key] == hub_ref[key], key  # exactly, every iteration
    assert log == log_ref and len(log) == 2  # iterations 3 and 6
    # mmengine's hook has every value at once; this one at the logger's
    # interval (3) and at the last iteration
    assert len_ref == [1, 2, 3, 4, 5, 6, 7]
    assert lengths == [0, 0, 3, 3, 3, 6, 7]


def test_log_variables_read_once_per_interval(tmp_path, monkeypatch):
    """Tensor.item, the per-value sync of mmengine's hook, is not called at
    all by this hook; the values come back in one copy per flush."""
    calls = []
    real_item = torch.Tensor.item

    def item(self):
        calls.append(1)
        return real_item(self)

    monkeypatch.setattr(torch.Tensor, 'item', item)
    _run(tmp_path, dict(type='RuntimeInfoHook'), iters=6)
    n_ref = len(calls)
    calls.clear()
    _run(tmp_path, dict(type='DeferredRuntimeInfoHook'), iters=6)
    # three tensor log variables per iteration (loss, hits, half)
    assert n_ref - len(calls) == 3 * 6


def test_checkpoint_mid_interval_holds_every_value(tmp_path):
    """A checkpoint saved between two flushes (iteration 4, logger interval
    3) holds the message hub mmengine's hook would have saved."""
    ckpts = {}
    for kind in ('RuntimeInfoHook', 'DeferredRuntimeInfoHook'):
        runner, *_ = _run(tmp_path, dict(type=kind), iters=5, interval=3,
                          ckpt_interval=4)
        ck = torch.load(osp.join(runner.work_dir, 'iter_4.pth'),
                        map_location='cpu', weights_only=False)
        ckpts[kind] = ck['message_hub']['log_scalars']['train/loss']
    ref = ckpts['RuntimeInfoHook']
    got = ckpts['DeferredRuntimeInfoHook']
    assert len(got._log_history) == len(ref._log_history) == 4
    assert list(got._log_history) == list(ref._log_history)


def test_to_host_equals_item():
    vals = [torch.tensor(0.1234567), torch.tensor(1e-8, dtype=torch.float16),
            torch.tensor(0.3, dtype=torch.bfloat16), torch.tensor(2**40 + 3),
            torch.tensor(True), torch.tensor([[2.5]], dtype=torch.float64),
            1.5, 7]
    got = _to_host(vals)
    ref = [v.item() if isinstance(v, torch.Tensor) else v for v in vals]
    assert got == ref
    assert [type(g) for g in got] == [type(r) for r in ref]
    with pytest.raises(ValueError, match='one element'):
        _to_host([torch.zeros(2)])


def test_interval_checked():
    with pytest.raises(ValueError, match='positive int'):
        DeferredRuntimeInfoHook(interval=0)
