"""UIA-ViT (Zhuang et al., ECCV 2022): the backbone's attention taps against
timm's explicit attention, the published ViT-B/16 parameter count, the
Gaussian estimates against numpy / scipy, hand-made known answers for PCWA,
the pseudo labels and the consistency loss, and the tiny model from its
config."""
import math
import os.path as osp

import numpy as np
import pytest
import timm
import torch
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis

from mmfocus.models import FoCusViT
from mmfocus.models.converters import convert_timm_vit
from mmfocus.models.classifiers.uia_vit import (attention_pseudo_labels,
                                                central_slices,
                                                mge_pseudo_labels,
                                                pcwa_assemble, pcwa_weights,
                                                uia_consistency_loss,
                                                uia_consistency_targets)
from mmfocus.models.utils.gaussian import (MultivariateGaussian, mahalanobis,
                                           regularised_inverse)
from model_helpers import build_model, label_samples

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
UIA_MINI = osp.join(ROOT, 'configs/uia-vit/uia-vit_mini_demo-sbi.py')
UIA_FULL = osp.join(ROOT, 'configs/uia-vit/uia-vit_vit-b_ffpp-c40.py')


def _build(path=UIA_MINI, **over):
    return build_model(path, **over)


_samples = label_samples


# ------------------------------------------------------------ backbone
def test_vit_b_parameter_count_is_the_published_one():
    # ViT-B/16: 86,567,656 parameters with its 1000-class head (timm
    # vit_base_patch16_224 / the ViT paper).
    ref = timm.create_model('vit_base_patch16_224', pretrained=False)
    assert sum(p.numel() for p in ref.parameters()) == 86_567_656
    vit = FoCusViT(arch='deit-b', pos_embed='learned')
    head = 768 * 1000 + 1000
    assert sum(p.numel() for p in vit.parameters()) + head == 86_567_656
    # the ImageNet weights the configs name convert from a timm file
    missing, unexpected = vit.load_state_dict(
        convert_timm_vit(ref.state_dict(), 'learned'), strict=False)
    assert missing == [] and unexpected == []
    torch.testing.assert_close(vit.blocks[11].mlp.fc2.weight,
                               ref.blocks[11].mlp.fc2.weight)
    model = _build(UIA_FULL)
    extra = 2 * 768 * 2 + 2 + 3  # the PCWA classifier and (c_in, c_out, c_x)
    assert sum(p.numel() for p in model.parameters()) == \
        86_567_656 - head + extra


def test_attention_logits_match_timm_explicit_attention():
    torch.manual_seed(0)
    arch = dict(embed_dim=32, depth=3, num_heads=1, mlp_ratio=2.)
    vit = FoCusViT(arch=arch, img_size=32, patch_size=8,
                   pos_embed='learned').eval()
    captured = []
    for blk in vit.blocks:
        blk.attn.fused_attn = False  # timm's explicit softmax(q k^T / s)
        blk.attn.attn_drop.register_forward_hook(
            lambda m, i, o: captured.append(o.detach()))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        tokens, cls = vit(x)
        captured.clear()
        out = vit.forward_with_intermediates(x, token_indices=(0, -1),
                                             attn_indices=(1, 2))
    # the explicit blocks equal timm's: same final tokens
    torch.testing.assert_close(out['patch_tokens'], tokens, atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(out['cls_token'], cls, atol=1e-5, rtol=0)
    assert len(out['tokens']) == 2 and out['tokens'][0].shape == (2, 17, 32)
    # blocks 1, 2 ran through block_with_attn_logits: compare their logits
    # with the attention of a timm pass
    captured.clear()
    with torch.no_grad():
        vit(x)
    for logits, ref in zip(out['attn_logits'], captured[1:]):
        assert logits.shape == (2, 17, 17)
        torch.testing.assert_close(logits.softmax(-1), ref[:, 0], atol=1e-5,
                                   rtol=0)
    with pytest.raises(IndexError, match='out of range'):
        vit.forward_with_intermediates(x, attn_indices=(3, ))


# ---------------------------------------------------- Gaussian estimate
def test_cumulative_gaussian_equals_numpy_statistics():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 3.
    g = MultivariateGaussian(5, momentum=None, shrinkage=0.)
    assert not g.ready
    for chunk in np.split(data, [40, 41, 170]):
        g.update(torch.from_numpy(chunk).float())
    assert not g.update(torch.zeros(0, 5)) and int(g.num_updates) == 4
    np.testing.assert_allclose(g.mean.numpy(), data.mean(0), atol=1e-4)
    np.testing.assert_allclose(g.cov.numpy(), np.cov(data.T, bias=True),
                               rtol=1e-4, atol=1e-4)
    x = data[:3]
    want = [scipy_mahalanobis(v, data.mean(0),
                              np.linalg.inv(np.cov(data.T, bias=True)))
            for v in x]
    np.testing.assert_allclose(g.distance(torch.from_numpy(x).float()),
                               want, rtol=1e-3)
    with pytest.raises(ValueError, match=r'expected \(n, 5\)'):
        g.update(torch.zeros(3, 4))


def test_ema_gaussian_is_the_mixture_and_inverse_is_shrunk():
    a, b = torch.randn(50, 3), torch.randn(30, 3) + 2
    g = MultivariateGaussian(3, momentum=0.25, shrinkage=0.)
    g.update(a)
    g.update(b)
    # the covariance of the mixture 0.75 N(a) + 0.25 N(b)
    ma, mb = a.mean(0), b.mean(0)
    ca = (a - ma).T @ (a - ma) / 50
    cb = (b - mb).T @ (b - mb) / 30
    m = 0.75 * ma + 0.25 * mb
    c = 0.75 * ca + 0.25 * cb + 0.75 * 0.25 * torch.outer(mb - ma, mb - ma)
    torch.testing.assert_close(g.mean, m, atol=1e-5, rtol=0)
    torch.testing.assert_close(g.cov, c, atol=1e-5, rtol=1e-5)
    cov = torch.tensor([[2., 1.], [1., 2.]])
    s = 0.8 * cov + (0.2 * 2. + 1e-5) * torch.eye(2)
    torch.testing.assert_close(regularised_inverse(cov, 0.2),
                               torch.linalg.inv(s), atol=1e-5, rtol=1e-5)
    # a singular covariance still gives a finite inverse and distances
    inv = regularised_inverse(torch.zeros(4, 4), 0.1)
    assert torch.isfinite(inv).all()
    d = mahalanobis(torch.ones(2, 4), torch.zeros(4), inv)
    assert torch.isfinite(d).all() and (d > 0).all()
    with pytest.raises(ValueError, match='shrinkage'):
        regularised_inverse(cov, 1.5)
    with pytest.raises(ValueError, match='momentum'):
        MultivariateGaussian(3, momentum=0.)


# --------------------------------------------------- hand-made answers
def test_pcwa_weights_and_assembly_by_hand():
    attn = torch.tensor([[0.2, 0.6, 1.0, 0.2]])
    assert torch.allclose(pcwa_weights(attn, 0.05), torch.full((1, 4), .25))
    assert torch.allclose(pcwa_weights(attn, 0.5, progressive=False),
                          attn / 4)
    # at step = thr the mixing weight w = sigmoid(0) = 1/2
    assert torch.allclose(pcwa_weights(attn, 0.7), (0.5 + 0.5 * attn) / 4)
    late = pcwa_weights(attn, 1.0)
    w = 1 / (1 + math.exp(12 * 0.3))
    assert torch.allclose(late, (w + (1 - w) * attn) / 4)
    cls = torch.tensor([[1., 2.]])
    patches = torch.tensor([[[1., 0.], [0., 1.], [2., 2.], [0., 0.]]])
    feat = pcwa_assemble(cls, patches, torch.tensor([[.5, .25, .25, 0.]]))
    assert torch.allclose(feat, torch.tensor([[1., 2., 1., .75]]))


def test_pseudo_labels_by_hand():
    labels = torch.tensor([0, 1])
    d_real = torch.tensor([[5., 1., 3.], [5., 1., 3.]])
    d_fake = torch.tensor([[1., 5., 2.], [1., 5., 2.]])
    assert mge_pseudo_labels(d_real, d_fake, labels).tolist() == \
        [[False, False, False], [True, False, True]]
    attn = torch.tensor([[.9, .1, .5, .2], [.1, .9, .5, .2]])
    assert attention_pseudo_labels(attn, labels, 0.5).tolist() == \
        [[False] * 4, [False, True, True, False]]
    # ceil(0.25 * 4) = 1 patch
    assert attention_pseudo_labels(attn, labels, 0.25)[1].tolist() == \
        [False, True, False, False]
    with pytest.raises(ValueError, match=r'\(0, 1\]'):
        attention_pseudo_labels(attn, labels, 0.)
    assert central_slices((14, 14), (3 / 14, 11 / 14)) == \
        (slice(3, 11), slice(3, 11))
    assert central_slices((2, 2), (0.4, 0.45)) == (slice(1, 2), slice(1, 2))


def test_consistency_targets_and_loss_by_hand():
    mask = torch.tensor([[True, True, False]])
    t = uia_consistency_targets(mask, torch.tensor(.9), torch.tensor(.8),
                                torch.tensor(.1))
    want = torch.tensor([[.9, .9, .1], [.9, .9, .1], [.1, .1, .8]])
    assert torch.allclose(t[0], want)
    cons = torch.zeros(2, 3, 3)
    targets = torch.ones(2, 3, 3)
    cons[1] = 0.5
    # off-diagonal mean |c - t|: real image 1.0, fake image 0.5 -> 1.5
    loss = uia_consistency_loss(cons, targets, torch.tensor([0, 1]))
    assert torch.allclose(loss, torch.tensor(1.5))
    # only one group present: that group's mean alone
    loss = uia_consistency_loss(cons, targets, torch.tensor([1, 1]))
    assert torch.allclose(loss, torch.tensor(.75))


# ------------------------------------------------------- tiny UIA-ViT
def test_tiny_uia_vit_trains_and_predicts_without_maps():
    torch.manual_seed(0)
    model = _build(total_iters=8, consistency_start=0.25, pcwa_start=0.25)
    assert not model.uses_map_targets and model.with_aux
    x = torch.randn(4, 3, 64, 64)
    model.train()
    losses = model.loss(x, _samples())  # no gt_mask needed
    assert set(losses) == {'loss_cls', 'loss_consistency', 'loss_c_reg',
                           'fake_patch_ratio', 'acc'}
    # UPCL waits for 1/4 of training (2 of 8 iterations)
    assert float(losses['loss_consistency'].detach()) == 0
    assert int(model.num_iters) == 1 and model.mge_real.ready
    model.loss(x, _samples())
    assert model.consistency_active
    losses = model.loss(x, _samples())
    assert float(losses['loss_consistency'].detach()) > 0
    assert 0 <= float(losses['fake_patch_ratio']) <= 1
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.c.grad is not None and float(model.c.grad.abs().sum()) > 0
    assert float(model.backbone.blocks[3].attn.qkv.weight.grad.abs().sum()) \
        > 0
    # a few Adam steps lower the loss on a fixed batch
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.zero_grad()

    def total_loss():
        out = model.loss(x, _samples())
        return sum(v for k, v in out.items() if 'loss' in k)

    with torch.no_grad():
        first = float(total_loss())
    for _ in range(5):
        opt.zero_grad()
        total_loss().backward()
        opt.step()
    with torch.no_grad():
        assert float(total_loss()) < first
    model.eval()
    with torch.no_grad():
        out = model.predict(x)
        pre = model.extract_pre_logits(x)
    assert pre.shape == (4, 256)
    m = out[0].pred_map
    assert m.shape == (64, 64) and 0 <= float(m.min()) <= float(m.max()) <= 1
    assert torch.allclose(out[0].pred_score.sum(), torch.tensor(1.))
    # the iteration counter and the Gaussians live in checkpoints
    state = model.state_dict()
    assert int(state['num_iters']) == model.num_iters
    assert 'mge_fake.inv_cov' in state
    fresh = _build(total_iters=8)
    fresh.load_state_dict(state)
    assert fresh.step == model.step and fresh.mge_fake.ready


def test_uia_vit_map_types_and_switches():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    for kind in ('attention', 'consistency', 'mge'):
        model = _build(map_type=kind).eval()
        with torch.no_grad():
            m = model.predict(x)[0].pred_map
        assert m.shape == (64, 64)
        assert 0 <= float(m.min()) <= float(m.max()) <= 1
        if kind == 'mge':  # no Gaussians yet: 0.5 everywhere
            assert torch.allclose(m, torch.full_like(m, .5), atol=1e-4)
    att = _build(pseudo_labels='attention', consistency_start=0.,
                 attn_fake_ratio=0.5)
    att.train()
    assert att.consistency_active  # needs no Gaussians
    out = att.loss(x, _samples(2))
    assert float(out['fake_patch_ratio']) == pytest.approx(0.5)
    assert not _build(loss_weight=0.).consistency_active
    eval_progress = _build(eval_progress=1.0).eval()
    assert eval_progress.step == 1.0
    with pytest.raises(ValueError, match='pseudo_labels'):
        _build(pseudo_labels='nope')
    with pytest.raises(ValueError, match='map_type'):
        _build(map_type='nope')
    with pytest.raises(TypeError, match='FoCusViT backbone'):
        _build(backbone=dict(type='mmpretrain.ResNet', depth=18))


# ------------------------------------------------------ the map itself
def test_uia_vit_attention_is_the_sigmoid_class_row():
    """(The 'uia-vit' map source: tests/test_maps/test_detector_sources.py.)
    The attention map is the sigmoid of the class row of the mean logits;
    the consistency of every patch pair lies in (0, 1)."""
    torch.manual_seed(0)
    model = _build().eval()
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        feat, aux = model._forward(x)
        out = model.backbone.forward_with_intermediates(
            x, attn_indices=model.attn_indices)
    assert aux['attn'].shape == (1, 64) and feat.shape == (1, 256)
    logits = torch.stack(out['attn_logits']).mean(0)
    torch.testing.assert_close(aux['attn'], torch.sigmoid(logits[:, 0, 1:]))
    assert ((aux['attn'] > 0) & (aux['attn'] < 1)).all()
    assert ((aux['consistency'] > 0) & (aux['consistency'] < 1)).all()
    assert aux['consistency'].shape == (1, 64, 64)
