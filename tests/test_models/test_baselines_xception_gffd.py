"""The Xception baseline and GFFD (Luo et al., CVPR 2021): the backbone and
its converter against timm, published parameter counts, hand-made known
answers for GFFD's modules (RSA, DCMA, fusion, SRM features), tiny models
from their configs (the 'gffd' map source:
tests/test_maps/test_detector_sources.py)."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import timm
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

from mmfocus.models.backbones import Xception
from mmfocus.models.converters import convert_timm_xception
from mmfocus.models.data_preprocessors.modality_filters import srm
from mmfocus.models.necks import (DualCrossModalityAttention, GFFDFusion,
                                  ResidualGuidedSpatialAttention,
                                  SRMFeatureBlock, rsa_reweight)
from mmfocus.registry import MODELS
from model_helpers import build_model, label_samples

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
XCEPTION_TINY = osp.join(ROOT, 'configs/xception/xception-tiny_demo-sbi.py')
GFFD_TINY = osp.join(ROOT, 'configs/gffd/gffd-tiny_demo-sbi.py')
TIMM_PARAMS = 22_855_952  # legacy_xception with its 1000-class fc
LEGACY_BACKBONE = TIMM_PARAMS - (2048 * 1000 + 1000)


def _nparams(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _random_timm(seed=0):
    """A timm legacy_xception with random weights and BN statistics."""
    torch.manual_seed(seed)
    ref = timm.create_model('legacy_xception', pretrained=False)
    for m in ref.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-.1, .1)
            m.running_var.uniform_(.5, 1.5)
            m.weight.data.uniform_(.5, 1.5)
            m.bias.data.uniform_(-.1, .1)
    return ref.eval()


_build = build_model
_samples = label_samples


# ------------------------------------------------------------ backbone
def test_legacy_xception_matches_timm_features_and_logits():
    ref = _random_timm()
    ours = Xception('legacy', out_indices=(0, 1, 2, 3, 4, 5)).eval()
    ours.load_state_dict(
        convert_timm_xception(ref.state_dict(), ours.state_dict(), prefix=''),
        strict=True)
    x = torch.randn(2, 3, 71, 71)
    with torch.no_grad():
        feats = ours(x)
        _, taps = ref.forward_intermediates(x)
        logits = ref(x)
    # timm's taps: stem, ReLU(block1), ReLU(block2), ReLU(block11), act4
    assert torch.allclose(feats[0], taps[0], atol=1e-5)
    for mine, theirs in zip((feats[1], feats[2], feats[4]), taps[1:4]):
        assert torch.allclose(F.relu(mine), theirs, atol=1e-4)
    assert torch.allclose(feats[5], taps[4], atol=1e-4)
    assert feats[3].shape == feats[4].shape == (2, 728, 5, 5)
    fc = nn.Linear(2048, 1000)
    fc.load_state_dict({'weight': ref.fc.weight, 'bias': ref.fc.bias})
    with torch.no_grad():
        assert torch.allclose(fc(feats[5].mean((2, 3))), logits, atol=1e-4)


def test_published_parameter_counts():
    ref = timm.create_model('legacy_xception', pretrained=False)
    assert _nparams(ref) == TIMM_PARAMS
    ours = Xception('legacy')
    assert _nparams(ours) + _nparams(nn.Linear(2048, 1000)) == TIMM_PARAMS
    xc = _build(osp.join(ROOT, 'configs/xception/xception_ffpp-c40.py'))
    assert _nparams(xc) == LEGACY_BACKBONE + 2048 * 2 + 2
    g = _build(osp.join(ROOT, 'configs/gffd/gffd_ffpp-c40.py'))
    bn = 2  # weight and bias per BN channel
    srm_feats = (96 * 32 + bn * 32) + (192 * 64 + bn * 64)
    rsa = (3 * 32 * 9 + bn * 32) + (32 * 64 * 9 + bn * 64) + 2 * 49 + bn * 64
    dcma = 2 * (728 * 91 + 91) + (91 * 91 + 91) + 2 * (728 * 728 + 728) + 2
    fusion = 4096 * 2048 + bn * 2048 + 2 * 2048 * 128
    fc = 2048 * 2 + 2
    extra = srm_feats + rsa + 2 * dcma + fusion + fc
    assert _nparams(g) == 2 * LEGACY_BACKBONE + extra == 52_975_212
    assert _nparams(Xception('tiny')) == 92_728


def test_backbone_indices_arch_and_sizes():
    m = Xception('tiny', out_indices=(-1, 0, 3)).eval()
    assert m.out_indices == (5, 0, 3) and m.num_blocks == 6
    with torch.no_grad():
        a, b, c = m(torch.zeros(1, 3, 64, 64))
    assert a.shape == (1, 128, 2, 2) and b.shape == (1, 16, 29, 29)
    assert c.shape == (1, 64, 4, 4)
    assert m.stage_channels == (16, 16, 32, 64, 64, 128)
    with pytest.raises(IndexError, match='out of range'):
        Xception('tiny', out_indices=(6, ))
    with pytest.raises(KeyError, match='not one of'):
        Xception('huge')
    with pytest.raises(KeyError, match='exactly the keys'):
        Xception(dict(stem_channels=(8, 16)))
    with pytest.raises(IndexError, match='block1..block6'):
        m.block(7)


# ----------------------------------------------------------- converter
def test_converter_errors_and_cadene_layout():
    ref = timm.create_model('legacy_xception', pretrained=False)
    state = ref.state_dict()
    with pytest.raises(KeyError, match='not a timm legacy_xception'):
        convert_timm_xception(state, Xception('tiny').state_dict())
    bad = dict(state)
    bad['conv1.weight'] = torch.zeros(16, 3, 3, 3)
    with pytest.raises(ValueError, match='conv1.weight: shape'):
        convert_timm_xception(bad, Xception('legacy').state_dict())
    with pytest.raises(KeyError, match='no tensors'):
        convert_timm_xception({})
    # Cadene / FF++ files: last_linear and Linear-shaped pointwise weights
    old = {('last_linear.' + k[3:] if k.startswith('fc.') else k):
           (v[:, :, 0, 0] if k.endswith('pointwise.weight') else v)
           for k, v in state.items()}
    out = convert_timm_xception({'state_dict': old},
                                Xception('legacy').state_dict())
    assert set(out) == {'backbone.' + k for k in state if 'fc.' not in k}
    assert torch.equal(out['backbone.conv4.pointwise.weight'],
                       state['conv4.pointwise.weight'])


def _tool():
    spec = importlib.util.spec_from_file_location(
        'timm_xception_tool',
        osp.join(ROOT, 'tools/model_converters/timm_xception_to_mmfocus.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_converter_tool_writes_a_checkpoint_the_config_loads(tmp_path):
    tool = _tool()
    ref = _random_timm(1)
    src = tmp_path / 'xception.pth'
    torch.save(ref.state_dict(), src)
    dst = tmp_path / 'xception_mmfocus.pth'
    tool.main([str(src), str(dst)])
    cfg = Config.fromfile(osp.join(ROOT, 'configs/xception/'
                                   'xception_ffpp-c40.py'))
    cfg.model.backbone.init_cfg = dict(type='Pretrained', prefix='backbone',
                                       checkpoint=str(dst))
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert torch.equal(model.backbone.block7.rep[1].pointwise.weight,
                       ref.block7.rep[1].pointwise.weight)
    assert torch.equal(model.backbone.bn4.running_var, ref.bn4.running_var)
    with pytest.raises(FileExistsError):
        tool.main([str(src), str(dst)])
    tiny = tmp_path / 'tiny.pth'
    torch.save(Xception('tiny').state_dict(), tiny)
    with pytest.raises(KeyError, match='not a timm legacy_xception'):
        tool.main([str(tiny), str(tmp_path / 'x.pth')])
    with pytest.raises(ValueError, match='invalid Xception arch'):
        tool.main([str(src), str(tmp_path / 'y.pth'), '--arch', 'nope'])
    assert not osp.exists(tmp_path / 'x.pth')


# ---------------------------------------------------- Xception classifier
def test_tiny_xception_classifier_from_config():
    torch.manual_seed(0)
    model = _build(XCEPTION_TINY)
    x = torch.randn(4, 3, 64, 64)
    losses = model.loss(x, _samples())
    assert torch.isfinite(losses['loss'])
    losses['loss'].backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (4, 2)
        out = model.predict(x)
        assert model.extract_feat(x)[0].shape == (4, 128)
    assert torch.allclose(out[0].pred_score.sum(), torch.tensor(1.))
    assert 'pred_map' not in out[0]


# ------------------------------------------------- GFFD modules by hand
def test_rsa_reweighting_by_hand():
    feat = torch.tensor([[1., 2.], [3., 4.]]).view(1, 1, 2, 2)
    att = torch.tensor([[0., .5], [1., .25]]).view(1, 1, 2, 2)
    want = torch.tensor([[1., 3.], [6., 5.]]).view(1, 1, 2, 2)
    assert torch.equal(rsa_reweight(feat, att), want)
    assert torch.equal(rsa_reweight(feat, att, residual=False),
                       torch.tensor([[0., 1.], [3., 1.]]).view(1, 1, 2, 2))
    # a 1x1 attention is spread over the feature grid
    assert torch.equal(rsa_reweight(feat, torch.full((1, 1, 1, 1), .5)),
                       1.5 * feat)
    # the attention itself: sigmoid(2 mean_c - max_c) with a 1x1 conv
    rsa = ResidualGuidedSpatialAttention(2, (2, 2), 1, kernel_size=1,
                                         post_norm=False)
    rsa.encoder = nn.Identity()
    rsa.spatial.weight.data = torch.tensor([2., -1.]).view(1, 2, 1, 1)
    r = torch.tensor([[[1., 5.]], [[3., -1.]]]).unsqueeze(0)  # (1, 2, 1, 2)
    a = torch.sigmoid(torch.tensor([2 * 2. - 3., 2 * 2. - 5.]))
    f = torch.tensor([[[2., 4.]]]).unsqueeze(0)
    out, got = rsa(r, f)
    assert torch.allclose(got.flatten(), a)
    assert torch.allclose(out.flatten(), torch.tensor([2., 4.]) * (1 + a))
    with pytest.raises(ValueError, match='odd'):
        ResidualGuidedSpatialAttention(kernel_size=4)


def test_rsa_map_lands_on_the_stem_grid():
    rsa = ResidualGuidedSpatialAttention(3, (8, 16), 16).eval()
    stem = Xception('tiny').eval()
    x = torch.randn(1, 3, 67, 67)
    with torch.no_grad():
        f = stem.forward_stem2(stem.forward_stem1(x))
        out, att = rsa(srm(x), f)
    assert att.shape == (1, 1) + f.shape[-2:] and out.shape == f.shape
    assert 0 < float(att.min()) <= float(att.max()) < 1


def test_dcma_matches_a_loop():
    torch.manual_seed(0)
    m = DualCrossModalityAttention(8, ratio=4)
    m.gamma_rgb.data.fill_(.7)
    m.gamma_hf.data.fill_(-.3)
    x, y = torch.randn(2, 8, 3, 2), torch.randn(2, 8, 3, 2)
    with torch.no_grad():
        gx, gy = m(x, y)

    def conv(c, t):  # a 1x1 conv on (C, N) by hand
        return c.weight[:, :, 0, 0] @ t + c.bias[:, None]

    n = 6
    for b in range(2):
        xb, yb = x[b].reshape(8, n), y[b].reshape(8, n)
        with torch.no_grad():
            kr = conv(m.key_shared, conv(m.key_rgb, xb))
            kh = conv(m.key_shared, conv(m.key_hf, yb))
            vr, vh = conv(m.value_rgb, xb), conv(m.value_hf, yb)
        e = [[float(kr[:, i] @ kh[:, j]) for j in range(n)] for i in range(n)]
        for i in range(n):  # RGB position i gathers from HF positions j
            w = np.exp(np.array(e[i]) - max(e[i]))
            w /= w.sum()
            ref = sum(w[j] * vh[:, j] for j in range(n))
            assert torch.allclose(gx[b].reshape(8, n)[:, i],
                                  xb[:, i] + .7 * ref, atol=1e-5)
        for j in range(n):  # HF position j gathers from RGB positions i
            col = [e[i][j] for i in range(n)]
            w = np.exp(np.array(col) - max(col))
            w /= w.sum()
            ref = sum(w[i] * vr[:, i] for i in range(n))
            assert torch.allclose(gy[b].reshape(8, n)[:, j],
                                  yb[:, j] - .3 * ref, atol=1e-5)
    # gamma starts at 0: identity at initialisation
    fresh = DualCrossModalityAttention(8, ratio=4)
    with torch.no_grad():
        ox, oy = fresh(x, y)
    assert torch.equal(ox, x) and torch.equal(oy, y)
    a_hr, a_rh = fresh.attentions(x, y)
    assert torch.allclose(a_hr.sum(-1), torch.ones(2, n))
    proj = DualCrossModalityAttention(8, ratio=4, num_tokens=n)
    assert proj(x, y)[0].shape == x.shape
    with pytest.raises(ValueError, match='built for 6 tokens'):
        proj(torch.randn(1, 8, 2, 2), torch.randn(1, 8, 2, 2))
    with pytest.raises(ValueError, match='equal shapes'):
        m(x, y[:, :, :2])


def test_fusion_and_srm_features_by_hand():
    torch.manual_seed(0)
    fus = GFFDFusion(4, mode='attention', ratio=2).eval()
    x, y = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    with torch.no_grad():
        f = fus.proj(torch.cat([x, y], 1))
        w1, w2 = fus.mlp[0].weight[:, :, 0, 0], fus.mlp[2].weight[:, :, 0, 0]

        def mlp(v):
            return F.relu(v @ w1.T) @ w2.T

        ca = torch.sigmoid(mlp(f.mean((2, 3))) + mlp(f.amax((2, 3))))
        assert torch.allclose(fus(x, y), f * ca[:, :, None, None],
                              atol=1e-6)
    cat = GFFDFusion(4, mode='concat')
    assert cat.out_channels == 8 and torch.equal(cat(x, y),
                                                 torch.cat([x, y], 1))
    with pytest.raises(ValueError, match='mode'):
        GFFDFusion(4, mode='sum')
    # SRM kernels sum to zero: a constant feature has no residual
    blk = SRMFeatureBlock(4).eval()
    with torch.no_grad():
        assert torch.allclose(blk(torch.full((1, 4, 6, 6), 7.)),
                              blk(torch.zeros(1, 4, 6, 6)), atol=1e-5)
        conv = blk.proj[0].weight[:, :, 0, 0]
        z = torch.randn(1, 4, 6, 6)
        r = srm(z, reduce='none').clamp(-3, 3)
        want = blk.proj[2](blk.proj[1](torch.einsum('oc,bchw->bohw', conv,
                                                    r)))
        assert torch.allclose(blk(z), want, atol=1e-5)


# -------------------------------------------------------- tiny GFFD
def test_tiny_gffd_trains_and_predicts_without_maps():
    torch.manual_seed(0)
    model = _build(GFFD_TINY)
    assert not model.uses_map_targets and model.with_aux
    x = torch.randn(4, 3, 64, 64) * 2
    # the HF input: SRM of the normalised image, summed, clipped at 3
    r = model.high_frequency(x)
    assert torch.allclose(r, srm(x).clamp(-3, 3)) and r.abs().max() <= 3
    losses = model.loss(x, _samples())  # no gt_mask needed
    assert set(losses) == {'loss_cls', 'acc'}
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    for name in ('backbone.conv1.weight', 'hf_backbone.conv1.weight',
                 'hf_backbone.block6.skip.weight', 'srm_feats.0.proj.0.weight',
                 'rsa.encoder.0.0.weight', 'rsa.spatial.weight',
                 'dcma.3.gamma_rgb', 'dcma.4.gamma_hf',
                 'fusion.proj.0.weight', 'fc.weight'):
        g = dict(model.named_parameters())[name].grad
        assert g is not None and float(g.abs().sum()) > 0, name
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    with torch.no_grad():
        first = float(model.loss(x, _samples())['loss_cls'])
    for _ in range(4):
        opt.zero_grad()
        model.loss(x, _samples())['loss_cls'].backward()
        opt.step()
    with torch.no_grad():
        assert float(model.loss(x, _samples())['loss_cls']) < first
    model.eval()
    with torch.no_grad():
        logits, att = model(x)
        out = model.predict(x)
        pre = model.extract_pre_logits(x)
    assert logits.shape == (4, 2) and att.shape == (4, 1, 29, 29)
    assert pre.shape == (4, 128)
    m = out[0].pred_map
    assert m.shape == (64, 64) and 0 <= float(m.min()) <= float(m.max()) <= 1
    ref = F.interpolate(att, size=(64, 64), mode='bilinear',
                        align_corners=False)[0, 0]
    assert torch.allclose(m, ref, atol=1e-6)
    assert torch.allclose(out[0].pred_score.sum(), torch.tensor(1.))


def test_gffd_switches():
    plain = _build(GFFD_TINY, rsa=False, multiscale_srm=False,
                   dcma_after=(), fusion='concat').eval()
    assert not plain.with_aux and plain.srm_feats is None
    with torch.no_grad():
        out = plain.predict(torch.randn(2, 3, 64, 64))
    assert 'pred_map' not in out[0] and plain.fc.in_features == 256
    with pytest.raises(ValueError, match='between the entry-flow end'):
        _build(GFFD_TINY, dcma_after=(2, ))
    with pytest.raises(ValueError, match='repeats'):
        _build(GFFD_TINY, dcma_after=(3, 3))
    with pytest.raises(TypeError, match='Xception backbone'):
        _build(GFFD_TINY, backbone=dict(type='mmpretrain.ResNet', depth=18))
