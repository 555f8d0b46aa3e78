"""FoCus(batch_branches=True): the two backbones as one vmapped call give
the loop's outputs and gradients (reference: the per-branch path of the
same model, same weights)."""
import copy

import pytest
import torch
from torch import nn

import mmfocus
from mmfocus.models.utils.branch_stack import check_stackable, stacked_forward
from mmfocus.registry import MODELS


def _pair(cfg_name='focus/vit-demo_demo-sbi.py'):
    cfg = mmfocus.get_config(cfg_name)
    torch.manual_seed(0)
    loop = MODELS.build(cfg.model)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg['batch_branches'] = True
    batched = MODELS.build(model_cfg)
    batched.load_state_dict(loop.state_dict())
    return loop, batched


def _batch(model, n=3, size=64):
    g = torch.Generator().manual_seed(1)
    imgs = torch.randint(0, 256, (n, 3, size, size), generator=g,
                         dtype=torch.uint8)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i % 2) for i in range(n)]
    data = model.data_preprocessor(
        dict(inputs=list(imgs), data_samples=samples), training=False)
    return data['inputs'], data['data_samples']


def test_stacked_forward_equals_the_loop_on_linear_layers():
    torch.manual_seed(0)
    mods = [nn.Sequential(nn.Linear(5, 7), nn.GELU(), nn.Linear(7, 2))
            for _ in range(2)]
    xs = [torch.randn(4, 5), torch.randn(4, 5)]
    out = stacked_forward(mods, xs)
    for i, (m, x) in enumerate(zip(mods, xs)):
        torch.testing.assert_close(out[i], m(x), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='differ in their parameters'):
        check_stackable([nn.Linear(5, 7), nn.Linear(5, 8)])


def test_batched_branches_give_the_loops_outputs_and_gradients():
    loop, batched = _pair()
    loop.eval()
    batched.eval()
    inputs, samples = _batch(loop)
    with torch.no_grad():
        a = loop.extract_feat(inputs)
        b = batched.extract_feat(inputs)
    for br in loop.branches:
        for k in ('tokens', 'logits'):
            torch.testing.assert_close(b['branch'][br][k], a['branch'][br][k],
                                       rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(b['fused_logits'], a['fused_logits'],
                               rtol=1e-5, atol=1e-5)
    # the loss and every parameter's gradient (eval mode: no dropout, so
    # the two paths compute the same function)
    la = sum(loop.loss(inputs, samples).values())
    lb = sum(batched.loss(inputs, samples).values())
    torch.testing.assert_close(lb, la, rtol=1e-5, atol=1e-6)
    la.backward()
    lb.backward()
    ga = dict(loop.named_parameters())
    n = 0
    for name, p in batched.named_parameters():
        if ga[name].grad is None:
            assert p.grad is None, name
            continue
        torch.testing.assert_close(p.grad, ga[name].grad, rtol=1e-4,
                                   atol=1e-6, msg=name)
        n += name.startswith('backbones.')
    assert n > 50  # the backbones' own parameters got their gradients


def test_attention_maps_take_the_per_branch_path():
    loop, batched = _pair()
    loop.map_source = batched.map_source = 'attention'
    loop.eval()
    batched.eval()
    inputs, _ = _batch(loop)
    with torch.no_grad():
        a = loop.extract_feat(inputs)
        b = batched.extract_feat(inputs)
    for br in loop.branches:
        torch.testing.assert_close(b['branch'][br]['attn'],
                                   a['branch'][br]['attn'])


def test_single_branch_refuses_batching():
    cfg = mmfocus.get_config('focus/vit-demo_demo-sbi_rgb-only.py')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg['batch_branches'] = True
    with pytest.raises(ValueError, match='at least two'):
        MODELS.build(model_cfg)


def test_flop_count_is_unchanged():
    from mmfocus.analysis.flops import build_dummy_inputs, count_flops
    loop, batched = _pair()
    counts = []
    for m in (loop, batched):
        m.eval()
        with torch.no_grad():
            counts.append(count_flops(m, build_dummy_inputs(m, None))['flops'])
    assert counts[0] == counts[1] == 150468096
