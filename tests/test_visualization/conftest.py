"""Fixtures of the visualization tests: the tiny FoCus and multi-task
configs with random weights saved as checkpoints, and a loader of the
``tools/visualization`` scripts (``run_tool``, the subprocess runner, is in
``tests/conftest.py``)."""
import os.path as osp

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


@pytest.fixture(scope='session')
def focus_ckpt(random_checkpoint):
    """The tiny FoCus (two branches + CL) with random weights."""
    return random_checkpoint(FOCUS_CFG, prepare=_calibrate_bn)


@pytest.fixture(scope='session')
def multitask_ckpt(random_checkpoint):
    """The tiny multi-task detector with random weights."""
    return random_checkpoint(MULTITASK_CFG, prepare=_calibrate_bn)


@pytest.fixture(scope='session')
def tool(load_tool):
    """``tool(name)``: ``tools/visualization/<name>.py`` as a module, to
    call its ``main(argv)`` in-process."""
    return lambda name: load_tool(f'tools/visualization/{name}.py')
