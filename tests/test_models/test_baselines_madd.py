"""MaDD (Zhao et al., CVPR 2021): BAP and the regional independence loss
against hand computations with known answers, AGDA's soft attention
dropping, the textural enhancement, the tiny model from its config (losses,
gradients, ``pred_map``, training), parameter counts (EfficientNet-B4's
published 19,341,616 and the full-size MaDD by hand) and the ``madd`` map
source."""
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfocus.models.necks.madd import (AttentionModule, TextureEnhancement,
                                       agda_soft_drop, agda_strength,
                                       bilinear_attention_pooling,
                                       gaussian_kernel,
                                       regional_independence_loss)
from model_helpers import build_model, label_samples

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MADD_TINY = osp.join(ROOT, 'configs/madd/madd-efb0_demo-sbi.py')
MADD_C40 = osp.join(ROOT, 'configs/madd/madd-efb4_ffpp-c40.py')
GFFD_TINY = osp.join(ROOT, 'configs/gffd/gffd-tiny_demo-sbi.py')
EFB4_PARAMS = 19_341_616  # mmpretrain / timm EfficientNet-B4, 1000 classes
EFB4_HEAD = 1792 * 1000 + 1000


def _nparams(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _build(path=MADD_TINY, **over):
    return build_model(path, **over)


_samples = label_samples


# ------------------------------------------------------------------ BAP
def test_bap_by_hand():
    torch.manual_seed(0)
    f = torch.randn(2, 3, 4, 4)
    a = torch.rand(2, 2, 4, 4)
    raw = torch.zeros(2, 2, 3)
    for b in range(2):
        for m in range(2):
            for c in range(3):
                raw[b, m, c] = (a[b, m] * f[b, c]).sum() / 16
    want = torch.sign(raw) * torch.sqrt(raw.abs() + 1e-8)
    want = want / want.norm(dim=-1, keepdim=True)
    assert torch.allclose(bilinear_attention_pooling(f, a), want, atol=1e-6)
    l2 = raw / raw.norm(dim=-1, keepdim=True)
    assert torch.allclose(bilinear_attention_pooling(f, a, 'l2'), l2,
                          atol=1e-6)
    assert torch.allclose(bilinear_attention_pooling(f, a, 'none'), raw,
                          atol=1e-6)
    mean = raw * 16 / (a.sum((2, 3))[..., None] + 1e-8)
    assert torch.allclose(bilinear_attention_pooling(f, a, 'mean'), mean,
                          atol=1e-6)
    # a constant attention averages the features
    ones = torch.ones(2, 1, 4, 4)
    assert torch.allclose(bilinear_attention_pooling(f, ones, 'mean')[:, 0],
                          f.mean((2, 3)), atol=1e-6)
    # attentions on another grid are resized bilinearly; one feature map
    # per attention (B, M, C, H, W) pools each with its own attention
    small = torch.rand(2, 2, 2, 2)
    up = F.interpolate(small, size=(4, 4), mode='bilinear',
                       align_corners=False)
    assert torch.allclose(bilinear_attention_pooling(f, small, 'none'),
                          torch.einsum('bmhw,bchw->bmc', up, f) / 16,
                          atol=1e-6)
    f5 = torch.randn(2, 2, 3, 4, 4)
    assert torch.allclose(bilinear_attention_pooling(f5, a, 'none'),
                          torch.einsum('bmhw,bmchw->bmc', a, f5) / 16,
                          atol=1e-6)
    with pytest.raises(ValueError, match='norm must be one of'):
        bilinear_attention_pooling(f, a, 'l1')


# ------------------------------------------------ regional independence
def test_regional_independence_loss_known_answer():
    real = torch.tensor([[1., 0.], [0., 1.]])
    fake = torch.tensor([[0., 1.], [1., 0.]])
    V = torch.stack([real, fake])
    labels = torch.tensor([0, 1])
    intra, inter, c = regional_independence_loss(
        V, torch.zeros(2, 2), labels, alpha=0.5, margins=(0.1, -2.0),
        inter_margin=1.0)
    # c' = 0 + 0.5 * (real - 0) / 2: only the real image moves the centres
    assert torch.allclose(c, 0.25 * real)
    # real: relu(||0.75 real|| - 0.1); fake: relu(2 - ||fake - c'||)
    want_intra = ((0.75 * math.sqrt(2) - 0.1) +
                  (2 - math.sqrt(2 * (0.25**2 + 1)))) / 2
    assert abs(float(intra) - want_intra) < 1e-6
    # one pair: relu(1 - ||(0.25, -0.25)||) / (M alpha = 1)
    assert abs(float(inter) - (1 - math.sqrt(0.125))) < 1e-6
    # every image moves the centres with update='all' (here onto one
    # point: the whole margin, 0.1 / (M alpha)); the intra margins hold
    intra, inter, c = regional_independence_loss(
        V, torch.zeros(2, 2), labels, alpha=0.5, margins=(5.0, -0.1),
        inter_margin=0.1, update='all')
    assert torch.allclose(c, torch.full((2, 2), 0.25))
    assert float(intra) == 0 and abs(float(inter) - 0.1) < 1e-5
    with pytest.raises(ValueError, match='update must be one of'):
        regional_independence_loss(V, c, labels, 0.5, (0.1, 0.1), 1.0,
                                   update='fake')


def test_model_ria_moves_centres_in_training_only():
    torch.manual_seed(0)
    model = _build(agda=False)
    V = F.normalize(torch.rand(4, 4, 24), dim=-1)
    labels = torch.tensor([0, 1, 0, 1])
    aux = dict(ria_feats=V)
    model.eval()
    losses = model.aux_loss(aux, None, labels)
    assert torch.count_nonzero(model.feature_centres) == 0
    model.train()
    again = model.aux_loss(aux, None, labels)
    assert torch.allclose(losses['loss_ria'], again['loss_ria'])
    # c' = 0.05 x (sum of the real features) / 4, the new buffer
    assert torch.allclose(model.feature_centres,
                          0.05 * (V[0] + V[2]) / 4, atol=1e-7)
    intra, inter, _ = regional_independence_loss(
        V, torch.zeros(4, 24), labels, 0.05, (0.2, -0.8), 0.8)
    assert torch.allclose(losses['loss_ria'], intra + inter)
    assert set(losses) == {'loss_ria', 'ria_intra', 'ria_inter'}


# ----------------------------------------------------------------- AGDA
def test_agda_strength_and_soft_drop():
    a = torch.linspace(0, 1, 11)
    s = agda_strength(a, 0.5, 4.0)
    assert float(s[0]) == 0 and torch.all(s[1:] > s[:-1])
    bottom = 1 / (1 + math.exp(2.0))
    want = (1 / (1 + math.exp(-2.0)) - bottom) / (1 - bottom)
    assert abs(float(s[-1]) - want) < 1e-6
    k = gaussian_kernel(5, 2.0)
    assert k.shape == (5, 5) and abs(float(k.sum()) - 1) < 1e-6
    assert torch.allclose(k, k.t()) and float(k[2, 2]) == float(k.max())
    x = torch.randn(1, 3, 32, 32)
    # strength 1 everywhere without noise: the blurred image; 0: unchanged
    full = agda_soft_drop(x, torch.ones(1, 1, 32, 32), k, dilation=1,
                          scale_factor=1.0, noise_rate=0.)
    blur = F.conv2d(F.pad(x, (2, ) * 4, mode='reflect'),
                    k.expand(3, 1, 5, 5), groups=3)
    assert torch.allclose(full, blur, atol=1e-5)
    assert torch.equal(agda_soft_drop(x, torch.zeros(1, 1, 32, 32), k),
                       x)


def test_agda_changes_the_input_only_where_attention_is_high():
    torch.manual_seed(0)
    model = _build().train()
    x = torch.randn(2, 3, 64, 64)
    attn = torch.zeros(2, 4, 8, 8)
    attn[..., 4:] = torch.rand(2, 4, 8, 4) * 0.01 + 1.0  # right half only
    out, index, s = model.augment(x, attn)
    assert out.shape == x.shape and index.shape == (2, )
    assert s.shape == (2, 1, 64, 64) and 0 <= float(s.min())
    assert float(s.max()) <= 1
    # bilinear upsampling keeps columns 0..27 at exactly 0 attention
    assert torch.equal(out[..., :28], x[..., :28])
    assert float(s[..., :28].max()) == 0
    # a ~ 1 there: strength >= (sig(1.2) - sig(-1.8)) / (1 - sig(-1.8))
    assert float(s[..., 40:].min()) > 0.7
    assert float((out - x)[..., 40:].abs().mean()) > 0.3


def test_agda_only_in_training():
    torch.manual_seed(0)
    model = _build(attention_dropout=0.)
    x = torch.randn(4, 3, 64, 64)
    train = model.train().loss(x, _samples())
    assert {'loss_agda', 'loss_match'} <= set(train)
    calls = []
    model.augment = lambda *a: calls.append(a)  # never reached in eval
    with torch.no_grad():
        ev = model.eval().loss(x, _samples())
    assert not calls and 'loss_agda' not in ev and 'loss_match' not in ev
    off = _build(agda=False).train().loss(x, _samples())
    assert 'loss_agda' not in off and int(model.num_iters) == 1


# ------------------------------------------------------- the sub-modules
def test_texture_enhancement_and_attention_module():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 16, 16)
    r, d = TextureEnhancement.residual(x, (8, 8))
    pooled = F.avg_pool2d(x, 2)
    assert torch.allclose(d, pooled, atol=1e-6)
    assert torch.allclose(r, x - pooled.repeat_interleave(2, 2)
                          .repeat_interleave(2, 3), atol=1e-6)
    # each 2 x 2 block of the residual sums to zero
    assert torch.allclose(F.avg_pool2d(r, 2), torch.zeros_like(pooled),
                          atol=1e-6)
    att = torch.rand(2, 4, 8, 8)
    te = TextureEnhancement(8)
    with torch.no_grad():
        t, d2 = te(x, att)
    assert t.shape == (2, 32, 16, 16) and torch.equal(d2, d)
    assert float(t.min()) >= 0  # ends in BN + ReLU
    per = TextureEnhancement(8, 6, mode='per_attention', num_attentions=4)
    with torch.no_grad():
        tp, _ = per(x, att)
    assert tp.shape == (2, 4, 6, 16, 16)
    with pytest.raises(ValueError, match='texture_mode'):
        TextureEnhancement(8, mode='dense')
    am = AttentionModule(8, 4, border=0.25).eval()
    with torch.no_grad():
        a = am(torch.randn(2, 8, 8, 8))
    assert a.shape == (2, 4, 8, 8) and float(a.min()) >= 0
    assert float(a[..., :2, :].abs().max()) == 0
    assert float(a[..., :, -2:].abs().max()) == 0
    elu = AttentionModule(8, 4, act='elu', extract=True).eval()
    with torch.no_grad():
        assert float(elu(torch.randn(2, 8, 8, 8)).min()) > 0


# ------------------------------------------------------ the tiny model
def test_tiny_madd_loss_gradients_and_predict():
    torch.manual_seed(0)
    model = _build()
    assert not model.uses_map_targets and model.with_aux
    assert model.in_channels == (24, 40, 1280)
    x = torch.randn(4, 3, 64, 64)
    losses = model.loss(x, _samples())  # no gt_mask needed
    assert set(losses) == {'loss_cls', 'loss_ria', 'ria_intra', 'ria_inter',
                           'loss_agda', 'loss_match', 'acc'}
    for k, v in losses.items():
        assert v.dim() == 0 and torch.isfinite(v), k
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    params = dict(model.named_parameters())
    for name in ('backbone.layers.0.conv.weight', 'attentions.conv.weight',
                 'texture.conv0.weight', 'texture.conv_last.weight',
                 'project_local.0.weight', 'project_global.weight',
                 'fc.2.weight'):
        g = params[name].grad
        assert g is not None and float(g.abs().sum()) > 0, name
    model.eval()
    with torch.no_grad():
        logits, aux = model(x)
        out = model.predict(x)
        pre = model.extract_pre_logits(x)
    assert logits.shape == (4, 2) and pre.shape == (4, 256)
    assert aux['attn'].shape == (4, 4, 8, 8)
    assert aux['ria_feats'].shape == (4, 4, 24)
    m = out[0].pred_map
    assert m.shape == (64, 64) and m.dtype == torch.float32
    assert 0 <= float(m.min()) <= float(m.max()) <= 1
    # the mean of the min-max normalised maps, upsampled
    a = aux['attn']
    lo = a.amin((2, 3), keepdim=True)
    hi = a.amax((2, 3), keepdim=True)
    want = ((a - lo) / (hi - lo).clamp_min(1e-8)).mean(1, keepdim=True)
    want = F.interpolate(want, size=(64, 64), mode='bilinear',
                         align_corners=False)[0, 0]
    assert torch.allclose(m, want, atol=1e-6)
    assert torch.allclose(out[0].pred_score.sum(), torch.tensor(1.))
    model.map_type = 'max'
    mx = model.aux_map(aux, (64, 64))
    assert mx.shape == (4, 1, 64, 64) and float(mx.max()) <= 1
    model.map_type = 'mean'
    assert torch.all(mx >= model.aux_map(aux, (64, 64)) - 1e-6)


def test_tiny_madd_adam_steps_lower_the_loss():
    torch.manual_seed(0)
    model = _build(attention_dropout=0., dropout=0., agda=False,
                   backbone=dict(type='mmpretrain.EfficientNet', arch='b0',
                                 out_indices=(2, 3, 6)))
    model.train()
    x = torch.randn(4, 3, 64, 64)
    samples = _samples(4)
    with torch.no_grad():
        first = model.loss(x, samples)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        opt.zero_grad()
        losses = model.loss(x, samples)
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        opt.step()
    with torch.no_grad():
        last = model.loss(x, samples)
    assert float(last['loss_cls']) < float(first['loss_cls'])
    assert float(last['loss_ria']) < float(first['loss_ria'])


def test_madd_switches_and_errors():
    plain = _build(mid_channels=None, texture_mode='per_attention',
                   texture_channels=8, bap_norm='l2', ria_input='textural',
                   attention_act='elu', loss_weight=0.).eval()
    assert plain.fc.in_features == 4 * 8 + 1280
    with torch.no_grad():
        logits, aux = plain(torch.randn(2, 3, 64, 64))
    assert logits.shape == (2, 2) and aux['ria_feats'].shape == (2, 4, 8)
    assert set(plain.loss(torch.randn(2, 3, 64, 64), _samples(2))) == {
        'loss_cls', 'loss_ria', 'acc'}
    with pytest.raises(ValueError, match='map_type'):
        _build(map_type='sum')
    with pytest.raises(ValueError, match='margins takes one value'):
        _build(margins=(0.1, ))
    with pytest.raises(ValueError, match='three backbone stages'):
        _build(backbone=dict(type='mmpretrain.EfficientNet', arch='b0',
                             out_indices=(3, 6)))
    with pytest.raises(TypeError, match='pass in_channels'):
        _build(backbone=nn.Conv2d(3, 8, 3))
    decay = _build(alpha_decay=0.5, alpha_decay_interval=2)
    decay.num_iters.fill_(5)
    assert decay.current_alpha == 0.05 * 0.25


# ---------------------------------------------------- parameter counts
def test_parameter_counts():
    import mmpretrain.models  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        clf = PRETRAIN_MODELS.build(
            dict(type='ImageClassifier',
                 backbone=dict(type='EfficientNet', arch='b4'),
                 neck=dict(type='GlobalAveragePooling'),
                 head=dict(type='LinearClsHead', num_classes=1000,
                           in_channels=1792)))
    assert _nparams(clf) == EFB4_PARAMS
    model = _build(MADD_C40)
    assert model.in_channels == (32, 160, 1792)
    assert _nparams(model.backbone) == EFB4_PARAMS - EFB4_HEAD
    bn = 2  # weight and bias per BN channel
    attention = 160 * 4 + bn * 4
    texture = (9 * 32 * 32 + 32) + bn * (32 + 64 + 96) + \
        sum(9 * 32 * 32 * i + 32 for i in (1, 2, 3)) + bn * 128 + \
        (128 * 128 + 128) + bn * 128
    heads = (512 * 256 + 256) + (256 * 256 + 256) + (1792 * 256 + 256) + \
        (512 * 256 + 256) + (256 * 2 + 2)
    assert _nparams(model) == EFB4_PARAMS - EFB4_HEAD + attention + \
        texture + heads == 18_419_282
