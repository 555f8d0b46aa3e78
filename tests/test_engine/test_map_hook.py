import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmfocus.engine.hooks import ManipulationMapHook, RNGStateHook
from mmfocus.engine.hooks.map_hook import sample_name


def _runner(tmp_path):
    logs = []
    return SimpleNamespace(
        work_dir=str(tmp_path), iter=7,
        cfg=dict(test_dataloader=dict(dataset=dict(data_root=str(tmp_path)))),
        logger=SimpleNamespace(info=logs.append)), logs


def test_map_hook_writes_raw_and_overlay(tmp_path):
    face = np.full((40, 40, 3), 100, np.uint8)
    (tmp_path / 'real').mkdir()
    cv2.imwrite(str(tmp_path / 'real' / 'a.png'), face)
    m = torch.linspace(0, 1, 32 * 32).view(32, 32)
    ds = DataSample(metainfo=dict(img_path=str(tmp_path / 'real' / 'a.png')))
    ds.set_field(m, 'pred_map')
    runner, logs = _runner(tmp_path)
    hook = ManipulationMapHook(keys=('pred_map', 'pred_map_fake'))
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, None, [ds])
    raw = cv2.imread(str(tmp_path / 'maps' / 'test' / 'raw' / 'real__a.png'),
                     cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16
    np.testing.assert_allclose(raw / 65535., m.numpy(), atol=1e-4)
    ov = cv2.imread(str(tmp_path / 'maps' / 'test' / 'overlay' /
                        'real__a.jpg'))
    assert ov.shape == (40, 40, 3)
    assert logs
    # no overwrite when told so
    hook = ManipulationMapHook(overwrite=False)
    with pytest.raises(FileExistsError):
        hook.after_test_iter(runner, 0, None, [ds])


def test_sample_name_is_flat_and_unique():
    assert sample_name('/d/real/x.png', '/d') == 'real__x'
    assert sample_name('/d/fake/x.png', '/d') == 'fake__x'


def test_rng_state_hook_round_trip():
    import random
    hook = RNGStateHook()
    ckpt = {}
    hook.before_save_checkpoint(None, ckpt)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    runner = SimpleNamespace(_resume=True, cfg=dict(resume=True))
    hook.after_load_checkpoint(runner, ckpt)
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a == b
