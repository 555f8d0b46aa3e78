"""Fixtures of the visualization tests: the tiny FoCus and multi-task
configs with random weights saved as checkpoints, tool loaders, and a
subprocess runner that calls the tools as the docs do."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOCUS_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
MULTITASK_CFG = osp.join(ROOT, 'tests', 'test_visualization',
                         'multitask_tiny.py')


@pytest.fixture(autouse=True, scope='package')
def _one_thread():
    """Small models on a shared machine: one intra-op thread."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _calibrate_bn(model, size=32):
    """Give BatchNorm layers the running statistics of two random batches:
    a freshly built EfficientNet in eval mode (unit running variance)
    shrinks every activation to ~1e-15, so all features would be equal."""
    bns = [m for m in model.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model.extract_feat(torch.randn(8, 3, size, size))
    for m in bns:
        m.momentum = 0.1
    model.eval()


def _save_random(cfg, path):
    from mmfocus.apis import init_model
    torch.manual_seed(0)
    model = init_model(cfg)
    _calibrate_bn(model)
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return path


@pytest.fixture(scope='session')
def focus_ckpt(tmp_path_factory):
    """The tiny FoCus (two branches + CL) with random weights."""
    return _save_random(FOCUS_CFG,
                        str(tmp_path_factory.mktemp('ckpt') / 'focus.pth'))


@pytest.fixture(scope='session')
def multitask_ckpt(tmp_path_factory):
    """The tiny multi-task detector with random weights."""
    return _save_random(MULTITASK_CFG,
                        str(tmp_path_factory.mktemp('ckpt') / 'mt.pth'))


def _load_tool(name):
    path = osp.join(ROOT, 'tools', 'visualization', name + '.py')
    spec = importlib.util.spec_from_file_location(f'viz_tool_{name}', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='session')
def tool():
    """``tool(name)``: ``tools/visualization/<name>.py`` as a module, to
    call its ``main(argv)`` in-process."""
    return _load_tool


def _run_tool(args):
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    env.pop('MMFOCUS_DEBUG', None)
    return subprocess.run([sys.executable] + list(args), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope='session')
def run_tool():
    """``run_tool(args)``: ``python <args>`` in the repo root as a user runs
    it; returns the ``CompletedProcess``."""
    return _run_tool
