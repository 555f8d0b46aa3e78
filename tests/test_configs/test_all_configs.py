"""Every config in configs/ loads, merges and builds its model."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmfocus.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p
    # protocol specs, not model configs: tests/test_experiments
    and not osp.basename(p).startswith(('map_protocol_', 'map_sources_',
                                        'table3_', 'complexity_')))


def test_configs_found():
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmfocus'
    model = MODELS.build(cfg.model)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert DATASETS.get(cfg[key].dataset.type) is not None
    assert cfg.test_evaluator
    if cfg.model.type != 'FoCus':
        # the other detectors' models are checked in their own tests:
        # tests/test_multitask/, tests/test_models/test_map_detectors.py,
        # test_lttd.py, test_baselines_*.py, tests/test_maps/
        # test_vit_detector.py
        return
    assert model.modalities == tuple(cfg.model.modalities)
    n = sum(p.numel() for p in model.parameters())
    if cfg.model.backbone.arch == 'deit-s':
        # two DeiT-S backbones (no heads, fixed pos-enc) + necks + CL
        assert 21_590_016 <= n / len(model.branches) < 25e6
        assert model.backbones[model.branches[0]].grid_size == (14, 14)


def test_demo_config_model_runs_on_its_token_grid():
    # the CPU demo model: conv stem, patch 8 at 64 px -> 8x8 tokens
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'focus',
                                   'vit-demo_demo-sbi.py'))
    model = MODELS.build(cfg.model).eval()
    assert model.backbones['rgb'].grid_size == (8, 8)
    assert model.backbones['rgb'].stem == 'conv'
    with torch.no_grad():
        logits, maps = model(torch.randint(0, 256, (1, 3, 64, 64)).float())
    assert logits.shape == (1, 2) and maps.shape == (1, 8, 8)
