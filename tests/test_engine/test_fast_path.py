"""The fast GPU path's pieces, checked on CPU: bf16 autocast without loss
scaling, ``tools/train.py --amp/--compile``, one stacked batch
(default_collate) equal to the per-sample path, masks not moved in
training, one host copy of the labels in ``predict``."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate, pseudo_collate
from mmengine.optim import OptimWrapper

from mmfocus.registry import MODELS, OPTIM_WRAPPERS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tiny_focus():
    cfg = Config.fromfile(osp.join(ROOT, 'tests', 'data', 'focus_tiny.py'))
    torch.manual_seed(0)
    return MODELS.build(cfg.model), cfg


def _batch(n=4, size=32, masks=True):
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(1)
    items = []
    for i in range(n):
        ds = DataSample().set_gt_label(i % 2)
        if masks:
            ds.set_field(torch.rand(size, size, generator=g), 'gt_mask',
                         dtype=torch.Tensor)
        img = torch.randint(0, 256, (3, size, size), generator=g,
                            dtype=torch.uint8)
        items.append(dict(inputs=img, data_samples=ds))
    return items


def test_autocast_wrapper_runs_forward_in_bf16_without_scaler():
    model, _ = _tiny_focus()
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='AutocastOptimWrapper', dtype='bfloat16',
             optimizer=torch.optim.Adam(model.parameters(), lr=1e-3)))
    assert isinstance(wrapper, OptimWrapper)
    assert not hasattr(wrapper, 'loss_scaler')  # no GradScaler, no sync
    seen = {}

    def hook(mod, inp, out):
        seen['dtype'] = out.dtype
        seen['autocast'] = torch.is_autocast_enabled('cpu')

    h = model.backbones['rgb'].blocks[0].attn.qkv.register_forward_hook(hook)
    before = [p.detach().clone() for p in model.parameters()]
    log = model.train_step(pseudo_collate(_batch()), wrapper)
    h.remove()
    assert seen == dict(dtype=torch.bfloat16, autocast=True)
    assert all(torch.isfinite(v).all() for v in log.values())
    changed = sum(not torch.equal(a, b.detach())
                  for a, b in zip(before, model.parameters()))
    assert changed > 0
    # the optimizer state (and so the step) stays fp32
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not torch.is_autocast_enabled('cpu')  # context closed


def test_autocast_wrapper_rejects_unknown_dtype():
    with pytest.raises(ValueError, match='dtype must be one of'):
        OPTIM_WRAPPERS.build(
            dict(type='AutocastOptimWrapper', dtype='int8',
                 optimizer=torch.optim.SGD([torch.nn.Parameter(
                     torch.zeros(1))], lr=0.1)))


def test_train_tool_amp_switches_the_optim_wrapper(monkeypatch, load_tool):
    train_tool = load_tool('tools/train.py')
    base = osp.join(ROOT, 'configs', 'multitask', 'efb4-fpn_demo-sbi.py')
    cfg = Config.fromfile(base)
    assert train_tool.apply_amp(cfg, 'bf16') == 'bf16'
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert 'loss_scale' not in cfg.optim_wrapper
    assert cfg.model.channels_last is True
    # fp16 needs CUDA: on CPU a warning and fp32
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config.fromfile(base)
    assert train_tool.apply_amp(cfg, 'fp16') == 'fp32'
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: False)
    cfg = Config.fromfile(base)
    assert train_tool.apply_amp(cfg, 'auto') == 'fp16'
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    cfg.optim_wrapper.type = 'SomethingElse'
    with pytest.raises(ValueError, match='only OptimWrapper configs'):
        train_tool.apply_amp(cfg, 'bf16')


def test_train_tool_amp_bf16_and_compile_flags(tiny_demo_data, tmp_path,
                                               load_tool):
    from test_tools.test_train_test_tools import CFG, _data_opts, run_tool
    work = str(tmp_path / 'w')
    run_tool(['tools/train.py', CFG, '--work-dir', work, '--amp', 'bf16',
              '--no-validate', '--cfg-options', 'train_cfg.max_iters=2',
              'default_hooks.checkpoint.interval=2'] +
             _data_opts(tiny_demo_data))
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu',
                      weights_only=True)
    # parameters stay fp32 under autocast; the optimizer stepped
    assert all(v.dtype == torch.float32 for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    parse_args = load_tool('tools/train.py').parse_args
    args = parse_args([CFG, '--amp', '--compile'])
    assert args.amp == 'auto' and args.compile
    assert parse_args([CFG]).amp is None


def test_default_collate_equals_pseudo_collate_and_drops_train_masks():
    model, _ = _tiny_focus()
    model.eval()
    pre = model.data_preprocessor
    assert pre._non_blocking is True
    out_d = pre(default_collate(_batch()), training=False)
    out_p = pre(pseudo_collate(_batch()), training=False)
    for m in out_p['inputs']:
        torch.testing.assert_close(out_d['inputs'][m], out_p['inputs'][m],
                                   rtol=0, atol=0)
    assert all('gt_mask' in ds for ds in out_d['data_samples'])  # test
    out_t = pre(default_collate(_batch()), training=True)
    assert not any('gt_mask' in ds for ds in out_t['data_samples'])
    assert all('gt_label' in ds for ds in out_t['data_samples'])
    # the loss is the same with either collate
    model.train()
    torch.manual_seed(3)
    la = model(**pre(default_collate(_batch()), True), mode='loss')
    torch.manual_seed(3)
    lb = model(**pre(pseudo_collate(_batch()), True), mode='loss')
    for k in la:
        torch.testing.assert_close(la[k], lb[k], rtol=0, atol=0)


def test_predict_labels_are_the_argmax_of_scores():
    model, _ = _tiny_focus()
    model.eval()
    data = model.data_preprocessor(default_collate(_batch(6)), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    for ds in out:
        assert ds.pred_label.device.type == 'cpu'
        assert int(ds.pred_label) == int(ds.pred_score.argmax())


def test_shipped_dataset_configs_use_one_stacked_batch():
    for name in ('ffpp-c40.py', 'ffpp-c23.py', 'demo-sbi.py'):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_',
                                       'datasets', name))
        for loader in ('train', 'val', 'test'):
            # the demo's [real, fake] pairs are flattened, then stacked by
            # default_collate
            want = 'mmfocus.flatten_collate' if (
                name, loader) == ('demo-sbi.py', 'train') else \
                'default_collate'
            assert cfg[f'{loader}_dataloader'].collate_fn.type == want, \
                (name, loader)
