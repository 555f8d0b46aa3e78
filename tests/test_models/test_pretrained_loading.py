"""Pretrained weights named by a config are loaded by the Runner, exactly.

Issue #12 item 1: ``FoCus`` kept its backbones in a plain ``nn.ModuleDict``,
which mmengine's ``BaseModule.init_weights`` does not descend into, so
``backbone.pretrained`` was silently ignored. Here every config that names
weights gets a random-weights file at that path, and after the Runner's own
weight initialisation every module that names the file must hold exactly
its tensors; a missing or mismatched file must stop before training.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmfocus.models import FoCusViT
from mmfocus.registry import MODELS
from mmfocus.utils import register_all_modules

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')


def _weight_refs(node, path=()):
    """``(key path, file)`` of every ``pretrained=`` / Pretrained init_cfg
    string in a config dict."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == 'pretrained' and isinstance(v, str):
                yield path + (k, ), v
            elif (k == 'init_cfg' and isinstance(v, dict)
                  and v.get('type') == 'Pretrained'):
                yield path + (k, 'checkpoint'), v['checkpoint']
            else:
                yield from _weight_refs(v, path + (k, ))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _weight_refs(v, path + (i, ))


def _configs_with_weights():
    out = []
    for p in sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                              recursive=True)):
        if '_base_' in p or osp.basename(p).startswith(
                ('map_protocol_', 'map_sources_')):
            continue
        if list(_weight_refs(Config.fromfile(p)._cfg_dict.to_dict())):
            out.append(p)
    return out


CONFIGS = _configs_with_weights()


def _set(cfg_dict, key_path, value):
    node = cfg_dict
    for k in key_path[:-1]:
        node = node[k]
    node[key_path[-1]] = value


def _owners(model, path):
    """Modules that will load ``path`` at init_weights."""
    out = []
    for m in model.modules():
        init_cfg = getattr(m, 'init_cfg', None)
        if getattr(m, 'pretrained', None) == path or (
                isinstance(init_cfg, dict)
                and init_cfg.get('checkpoint') == path):
            out.append(m)
    return out


def _random_state(module, seed):
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(v.shape, generator=g).to(v.dtype)
            if v.is_floating_point() else v.clone()
            for k, v in module.state_dict().items()}


def test_weight_naming_configs_found():
    names = [osp.relpath(p, ROOT) for p in CONFIGS]
    # the paper recipe and the ViT detector for GradCAM/ScoreCAM at least
    assert 'configs/focus/vit-s_ffpp-lq.py' in names
    assert 'configs/vit/vit-s_ffpp-c40.py' in names


@pytest.mark.parametrize('config', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_runner_init_loads_named_weights_exactly(config, tmp_path):
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    model_cfg = cfg._cfg_dict.to_dict()['model']
    refs = list(_weight_refs(model_cfg))
    files = {}
    for i, (key_path, _) in enumerate(refs):
        files[key_path] = str(tmp_path / f'weights_{i}.pth')
        _set(model_cfg, key_path, files[key_path])
    model = MODELS.build(model_cfg)
    expected = {}
    for i, (key_path, path) in enumerate(files.items()):
        owners = _owners(model, path)
        assert owners, f'{config}: nothing loads {key_path}'
        state = _random_state(owners[0], seed=i)
        init_cfg = getattr(owners[0], 'init_cfg', None) or {}
        prefix = init_cfg.get('prefix') if isinstance(init_cfg, dict) \
            else None
        torch.save({f'{prefix}.{k}' if prefix else k: v
                    for k, v in state.items()}, path)
        expected.update({id(m): state for m in owners})
    # what mmengine's Runner._init_model_weights calls
    model.init_weights()
    for m in model.modules():
        if id(m) in expected:
            got = m.state_dict()
            assert set(got) == set(expected[id(m)])
            for k, v in expected[id(m)].items():
                assert torch.equal(got[k], v), (config, k)


def test_focus_backbones_load_through_runner(tmp_path):
    """The real Runner, built by the tools' code, on the tiny config."""
    from mmfocus.apis.runner import build_runner, load_config
    vit = FoCusViT(arch='test', img_size=32, patch_size=8, stem='conv')
    state = _random_state(vit, seed=3)
    path = str(tmp_path / 'vit.pth')
    torch.save({'state_dict': state}, path)
    cfg = load_config(TINY, [f'model.backbone.pretrained={path}'],
                      work_dir=str(tmp_path / 'work'))
    runner = build_runner(cfg)
    runner._init_model_weights()
    for branch in runner.model.branches:
        got = runner.model.backbones[branch].state_dict()
        for k, v in state.items():
            assert torch.equal(got[k], v), (branch, k)


def test_backbone_init_cfg_pretrained_is_honoured(tmp_path):
    register_all_modules(init_default_scope=True)
    vit = FoCusViT(arch='test', img_size=32, patch_size=8, stem='conv')
    state = _random_state(vit, seed=5)
    path = str(tmp_path / 'whole.pth')
    # a whole-model checkpoint: the backbone under a prefix
    torch.save({f'backbones.rgb.{k}': v for k, v in state.items()}, path)
    cfg = Config.fromfile(TINY)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=path,
                                       prefix='backbones.rgb')
    model = MODELS.build(cfg.model)
    model.init_weights()
    for branch in model.branches:
        got = model.backbones[branch].state_dict()
        assert all(torch.equal(got[k], v) for k, v in state.items())


def test_mismatched_files_stop_with_the_file_named(tmp_path):
    register_all_modules(init_default_scope=True)
    vit = FoCusViT(arch='test', img_size=32, patch_size=8, stem='conv')
    state = _random_state(vit, seed=1)
    cases = {
        'missing_key.pth': {k: v for k, v in state.items()
                            if not k.startswith('norm.')},
        'extra_key.pth': dict(state, head_weight=torch.zeros(2)),
        'wrong_shape.pth': dict(state, cls_token=torch.zeros(1, 1, 3)),
    }
    for name, bad in cases.items():
        path = str(tmp_path / name)
        torch.save(bad, path)
        for kw in (dict(pretrained=path),
                   dict(init_cfg=dict(type='Pretrained', checkpoint=path))):
            cfg = Config.fromfile(TINY)
            cfg.model.backbone.update(kw)
            model = MODELS.build(cfg.model)
            with pytest.raises(RuntimeError, match=name):
                model.init_weights()
    cfg = Config.fromfile(TINY)
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(tmp_path / 'extra_key.pth'),
        prefix='nothing_here')
    with pytest.raises(RuntimeError, match='prefix'):
        MODELS.build(cfg.model).init_weights()


def test_train_tool_stops_before_training_on_a_missing_file(
        tmp_path, run_tool, tiny_demo_data):
    missing = tmp_path / 'no_such_weights.pth'
    work = tmp_path / 'work'
    data = [f'{k}_dataloader.dataset.data_root={tiny_demo_data}'
            for k in ('train', 'val', 'test')]
    proc = run_tool(['tools/train.py', TINY, '--work-dir', str(work),
                     '--cfg-options', f'model.backbone.pretrained={missing}']
                    + data)
    assert proc.returncode != 0
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith('error:')]
    assert len(err) == 1 and 'no_such_weights.pth' in err[0], proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not glob.glob(str(work / '**' / '*.pth'), recursive=True)


def test_multitask_backbone_init_cfg_loads_exactly(tmp_path):
    """MultiTaskDetector's mmpretrain EfficientNet through init_cfg, as
    configs/multitask/README.md documents it (whole-model file + prefix)."""
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'multitask', 'efb4-fpn_demo-sbi.py'))
    model = MODELS.build(cfg.model)
    state = _random_state(model.backbone, seed=7)
    path = str(tmp_path / 'efficientnet.pth')
    torch.save({'state_dict': {f'backbone.{k}': v
                               for k, v in state.items()}}, path)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=path,
                                       prefix='backbone')
    model = MODELS.build(cfg.model)
    model.init_weights()
    got = model.backbone.state_dict()
    assert all(torch.equal(got[k], v) for k, v in state.items())
    # a file for another architecture stops with the file named
    torch.save({'state_dict': {'backbone.stem.weight': torch.zeros(1)}},
               path)
    model = MODELS.build(cfg.model)
    with pytest.raises(RuntimeError, match='efficientnet.pth'):
        model.init_weights()
