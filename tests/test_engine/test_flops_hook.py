# Copyright (c) mmfocus contributors.
"""FlopsProfileHook: whole-model JSON under the work dir, no side effects."""
import json
import logging
import os
import os.path as osp

import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseDataPreprocessor, BaseModel
from torch import nn

from mmfocus.engine.hooks.flops_hook import FlopsProfileHook


class _DictPreprocessor(BaseDataPreprocessor):
    """Returns ``{'rgb': x, 'sobel': x}`` like the FoCus preprocessor."""

    def forward(self, data, training=False):
        x = torch.stack(data['inputs']).float() / 255
        return dict(inputs={'rgb': x, 'sobel': 1 - x},
                    data_samples=data['data_samples'])


class _TwoBranchModel(BaseModel):

    def __init__(self):
        super().__init__(data_preprocessor=_DictPreprocessor())
        self.rgb = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False),
                                 nn.BatchNorm2d(4), nn.Dropout(0.5))
        self.sobel = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.head = nn.Linear(8, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        a = self.rgb(inputs['rgb']).amax((2, 3))
        b = self.sobel(inputs['sobel']).amax((2, 3))
        return self.head(torch.cat([a, b], 1))


class _FakeRunner:

    def __init__(self, model, work_dir, name):
        self.model = model
        self.work_dir = str(work_dir)
        self.logger = MMLogger.get_instance(name, log_level='INFO')


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _runner(model, tmp_path, name):
    runner = _FakeRunner(model, tmp_path, name)
    cap = _Capture()
    runner.logger.addHandler(cap)
    return runner, cap


def test_hook_writes_whole_model_json(tmp_path):
    model = _TwoBranchModel()
    model.train()
    model.rgb[1].eval()  # a frozen BN must stay frozen
    runner, cap = _runner(model, tmp_path, 'flops_hook_test_json')
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    hook = FlopsProfileHook(input_shape=(10, 14), out_file='prof/flops.json')
    hook.before_train(runner)

    path = osp.join(tmp_path, 'prof', 'flops.json')
    res = json.loads(open(path).read())
    conv = 10 * 14 * 4 * 3 * 9
    bn = 2 * 10 * 14 * 4  # fvcore: affine batchnorm in eval, 2 per element
    assert res['flops'] == 2 * conv + bn + 8 * 2  # both branches + head
    assert res['by_module']['sobel']['flops'] == conv
    assert res['by_module']['rgb.0']['flops'] == conv
    assert res['params'] == sum(p.numel() for p in model.parameters())
    assert res['input_shape'] == {'rgb': [1, 3, 10, 14],
                                  'sobel': [1, 3, 10, 14]}
    assert 'unsupported_ops' in res
    # modes and RNG untouched
    assert model.training and model.rgb.training and model.head.training
    assert not model.rgb[1].training
    assert torch.equal(before, torch.random.get_rng_state())
    msgs = [r.getMessage() for r in cap.records]
    assert any('FlopsProfileHook' in m and res['flops_str'] in m
               for m in msgs)
    assert not [f for f in os.listdir(osp.dirname(path)) if '.tmp' in f]

    # done once: before_test after training does not count again
    os.remove(path)
    hook.before_test(runner)
    assert not osp.exists(path)


def test_hook_unwraps_model_wrappers(tmp_path):
    model = _TwoBranchModel()
    wrapped = nn.DataParallel(model)  # a registered mmengine wrapper
    runner, _ = _runner(wrapped, tmp_path, 'flops_hook_test_wrap')
    FlopsProfileHook(input_shape=8).before_test(runner)
    res = json.loads(open(osp.join(tmp_path, 'flops.json')).read())
    assert 'rgb' in res['by_module'] and 'module.rgb' not in res['by_module']
    assert res['input_shape']['rgb'] == [1, 3, 8, 8]


def test_hook_failure_only_warns(tmp_path):

    class Broken(_TwoBranchModel):

        def forward(self, inputs, data_samples=None, mode='tensor'):
            raise RuntimeError('boom')

    model = Broken()
    runner, cap = _runner(model, tmp_path, 'flops_hook_test_broken')
    before = torch.random.get_rng_state()
    FlopsProfileHook().before_train(runner)  # must not raise
    warnings = [r.getMessage() for r in cap.records
                if r.levelno == logging.WARNING]
    assert any('boom' in m for m in warnings)
    assert not osp.exists(osp.join(tmp_path, 'flops.json'))
    assert model.training
    assert torch.equal(before, torch.random.get_rng_state())


def test_hook_in_a_runner_from_config(tmp_path):
    """Built by name through the registry, called by a real Runner."""
    from mmengine.runner import Runner
    runner = Runner(
        model=_TwoBranchModel(), work_dir=str(tmp_path),
        custom_hooks=[dict(type='FlopsProfileHook', input_shape=(6, 6))],
        default_scope='mmfocus')
    runner.call_hook('before_test')
    res = json.loads(open(osp.join(tmp_path, 'flops.json')).read())
    assert res['flops'] == 2 * 6 * 6 * 4 * 27 + 2 * 6 * 6 * 4 + 16


def test_hook_rejects_paths_outside_work_dir():
    with pytest.raises(ValueError, match='relative'):
        FlopsProfileHook(out_file='../x.json')
    with pytest.raises(ValueError, match='relative'):
        FlopsProfileHook(out_file='/tmp/x.json')
