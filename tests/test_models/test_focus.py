import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmfocus.models import (CARHead, CARPNeck, ComplementaryLearningNeck,
                            FoCus, token_selection)

TINY = dict(type='FoCusViT', arch='test', img_size=32, patch_size=8)


def _model(**kw):
    kw.setdefault('neck', dict(type='CARPNeck', k=4))
    kw.setdefault('head', dict(type='CARHead', k=4))
    return FoCus(backbone=TINY, **kw)


def _batch(model, n=4, training=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = [torch.randint(0, 256, (3, 32, 32), generator=g, dtype=torch.uint8)
         for _ in range(n)]
    ds = [DataSample().set_gt_label(i % 2) for i in range(n)]
    return model.data_preprocessor(dict(inputs=x, data_samples=ds), training)


def test_car_head_logits_and_maps_match_a_loop_reference():
    torch.manual_seed(0)
    head = CARHead(num_classes=2, k=3)
    feat = torch.randn(2, 6, 5, 4)
    logits = head(feat)
    f = feat.numpy().reshape(2, 2, 3, 5, 4)
    ref = np.zeros((2, 2))
    for b in range(2):
        for c in range(2):
            ref[b, c] = np.mean([f[b, c, j].max() for j in range(3)])
    np.testing.assert_allclose(logits.numpy(), ref, rtol=1e-6)
    maps = head.car_maps(feat).numpy()
    for b in range(2):
        for c in range(2):
            a = sum(f[b, c, j].mean() * f[b, c, j] for j in range(3))
            a = np.maximum(a, 0)
            a = (a - a.min()) / max(a.max() - a.min(), 1e-6)
            np.testing.assert_allclose(maps[b, c], a, atol=1e-5)
    assert maps.min() >= 0 and maps.max() <= 1


def test_car_head_posterior_maps_match_a_loop_reference():
    torch.manual_seed(0)
    head = CARHead(num_classes=2, k=3)
    feat = torch.randn(2, 6, 5, 4)
    maps = head.car_maps(feat, norm='posterior').numpy()
    f = feat.numpy().astype(np.float64).reshape(2, 2, 3, 5, 4)
    for b in range(2):
        for y in range(5):
            for x in range(4):
                s = [f[b, c, :, y, x].mean() for c in range(2)]
                p_fake = 1 / (1 + np.exp(s[0] - s[1]))
                np.testing.assert_allclose(maps[b, 1, y, x], p_fake,
                                           atol=1e-6)
    np.testing.assert_allclose(maps.sum(1), 1, atol=1e-6)
    # one scale for every image: a face whose fake channels are uniformly
    # below its real channels gets a low map, not one stretched to [0, 1]
    low = torch.cat([torch.full((1, 3, 5, 4), 2.0),
                     torch.full((1, 3, 5, 4), -2.0)], 1)
    low[0, 3, 0, 0] = -1.0  # one slightly less real location
    m = head.car_maps(low, norm='posterior')[0, 1]
    assert m.max() < 0.05 and m.argmax() == 0
    assert head.car_maps(low)[0, 1].max() == 1  # min-max stretches it
    with pytest.raises(ValueError, match='map norm'):
        head.car_maps(feat, norm='softmax')


def test_car_head_gated_maps_known_answer():
    head = CARHead(num_classes=2, k=1)
    # fake-minus-real location logit d: posterior p = sigmoid(d)
    d = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    feat = torch.stack([torch.zeros(2, 2), d])[None]  # (1, 2, 2, 2)
    p = torch.sigmoid(d)
    scores = torch.tensor([[0.2, 0.8]])
    m = head.car_maps(feat, norm='gated', scores=scores)[0, 1]
    # min-max of the fake posterior (0 at d=0, 1 at d=3), times P(fake)
    want = (p - p.min()) / (p.max() - p.min()) * 0.8
    torch.testing.assert_close(m, want)
    assert m.max() == pytest.approx(0.8) and m.min() == 0
    # the real-class map: the same per-image ranking reversed, times 0.2
    r = head.car_maps(feat, norm='gated', scores=scores)[0, 0]
    assert r.max() == pytest.approx(0.2) and r[1, 1] == 0
    with pytest.raises(ValueError, match='image-level class probabilities'):
        head.car_maps(feat, norm='gated')


def test_car_head_smooth_pooling_matches_numpy_and_spans_mean_to_max():
    torch.manual_seed(0)
    feat = torch.randn(3, 6, 5, 4, dtype=torch.float64)
    f = feat.numpy().reshape(3, 2, 3, 20)
    # log-sum-exp: (1/r) log mean exp(r x), channel by channel
    r = 2.5
    got = CARHead(k=3, pool='lse', pool_r=r)(feat).numpy()
    m = f.max(-1, keepdims=True)
    lse = (m[..., 0] + np.log(np.exp(r * (f - m)).mean(-1)) / r).mean(-1)
    np.testing.assert_allclose(got, lse, rtol=1e-9)
    mean = f.mean(-1).mean(-1)
    mx = f.max(-1).mean(-1)
    assert (got >= mean - 1e-12).all() and (got <= mx + 1e-12).all()
    np.testing.assert_allclose(
        CARHead(k=3, pool='lse', pool_r=1e-4)(feat).numpy(), mean,
        atol=1e-3)
    np.testing.assert_allclose(
        CARHead(k=3, pool='lse', pool_r=1e3)(feat).numpy(), mx, atol=1e-2)
    # top-k mean: ceil(0.2 * 20) = 4 largest values per channel
    got = CARHead(k=3, pool='topk', pool_topk=0.2)(feat).numpy()
    ref = np.sort(f, -1)[..., -4:].mean(-1).mean(-1)
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    np.testing.assert_allclose(
        CARHead(k=3, pool='topk', pool_topk=1.0)(feat).numpy(), mean,
        rtol=1e-9)
    np.testing.assert_allclose(
        CARHead(k=3, pool='topk', pool_topk=0.01)(feat).numpy(), mx,
        rtol=1e-9)  # one location: the paper's max
    for bad in (dict(pool='avg'), dict(pool_r=0.), dict(pool_topk=0.),
                dict(pool_topk=1.5), dict(real_loc_weight=-1.),
                dict(fake_loc_weight=-1.)):
        with pytest.raises(ValueError, match='CARHead'):
            CARHead(k=3, **bad)


def test_car_head_max_pool_feeds_one_location_per_channel_topk_feeds_k():
    feat = torch.randn(1, 4, 6, 6)
    counts = {}
    for pool, kw in (('max', {}), ('topk', dict(pool_topk=0.25)),
                     ('lse', {})):
        x = feat.clone().requires_grad_()
        CARHead(k=2, pool=pool, **kw)(x).sum().backward()
        counts[pool] = (x.grad.view(4, 36) != 0).sum(-1).tolist()
    assert counts['max'] == [1] * 4
    assert counts['topk'] == [9] * 4  # ceil(0.25 * 36)
    assert counts['lse'] == [36] * 4


def test_car_head_real_location_loss_matches_a_loop_reference():
    torch.manual_seed(0)
    head = CARHead(k=3, real_loc_weight=0.5)
    feat = torch.randn(4, 6, 2, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 0, 1])
    losses = head.loss(head(feat), labels, feat)
    assert set(losses) == {'loss_loc', 'loss_real_loc'}
    f = feat.detach().numpy().reshape(4, 2, 3, 6)
    terms = []
    for b in (0, 2):  # the real faces only
        for p in range(6):
            s = f[b, :, :, p].mean(-1)  # per-location logits of both classes
            terms.append(np.log(np.exp(s).sum()) - s[0])
    np.testing.assert_allclose(losses['loss_real_loc'].item(),
                               0.5 * np.mean(terms), rtol=1e-9)
    losses['loss_real_loc'].backward()
    assert feat.grad[[1, 3]].abs().max() == 0  # no location term on fakes
    assert feat.grad[[0, 2]].abs().min() > 0
    # a batch of fakes only: zero, still in the graph
    x = feat.detach().clone().requires_grad_()
    fake = head.loss(head(x), torch.ones(4, dtype=torch.long), x)
    assert fake['loss_real_loc'].item() == 0
    fake['loss_real_loc'].backward()
    assert x.grad is not None
    # off by default (the paper): no location term, feat or not
    assert set(CARHead(k=3).loss(head(feat), labels, feat)) == {'loss_loc'}


def test_car_head_fake_location_loss_matches_a_loop_reference():
    """Each fake's top ceil(pool_topk * h*w) locations by fake-minus-real
    margin, cross-entropy against fake; reals get no such term."""
    torch.manual_seed(1)
    head = CARHead(k=3, pool_topk=0.34, fake_loc_weight=2.0)
    feat = torch.randn(4, 6, 2, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 0, 1])
    losses = head.loss(head(feat), labels, feat)
    assert set(losses) == {'loss_loc', 'loss_fake_loc'}
    f = feat.detach().numpy().reshape(4, 2, 3, 6)
    terms = []
    for b in (1, 3):  # the fakes only
        s = f[b].mean(1)  # (2 classes, 6 locations)
        top = np.argsort(-(s[1] - s[0]))[:3]  # ceil(0.34 * 6) = 3
        for p in top:
            terms.append(np.log(np.exp(s[:, p]).sum()) - s[1, p])
    np.testing.assert_allclose(losses['loss_fake_loc'].item(),
                               2.0 * np.mean(terms), rtol=1e-9)
    losses['loss_fake_loc'].backward()
    assert feat.grad[[0, 2]].abs().max() == 0
    g = feat.grad[[1, 3]].view(2, 6, 6).abs().sum(1)  # per location
    assert ((g > 0).sum(-1) == 3).all()  # only the 3 chosen locations
    x = feat.detach().clone().requires_grad_()
    real = head.loss(head(x), torch.zeros(4, dtype=torch.long), x)
    assert real['loss_fake_loc'].item() == 0
    real['loss_fake_loc'].backward()
    assert x.grad is not None


def test_focus_logs_the_real_location_loss_per_branch():
    torch.manual_seed(0)
    model = _model(head=dict(type='CARHead', k=4, pool='topk',
                             real_loc_weight=1.0), loc_weight=2.0)
    data = _batch(model)
    losses = model(**data, mode='loss')
    assert {'loss_real_loc_rgb', 'loss_real_loc_sobel'} <= set(losses)
    feats = model.extract_feat(data['inputs'])
    labels = torch.tensor([0, 1, 0, 1])
    want = model.heads['rgb'].loss(feats['branch']['rgb']['logits'], labels,
                                   feats['branch']['rgb']['feat'])
    torch.testing.assert_close(losses['loss_real_loc_rgb'],
                               2.0 * want['loss_real_loc'])
    torch.testing.assert_close(losses['loss_loc_rgb'], 2.0 * want['loss_loc'])


def test_posterior_manipulation_map_is_the_fake_posterior_for_any_class():
    torch.manual_seed(0)
    model = _model(map_norm='posterior').eval()
    data = _batch(model, training=False)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        post = {b: model.heads[b].car_maps(f['feat'], norm='posterior')
                for b, f in feats['branch'].items()}
        m = feats['token_mask'].view(-1, 4, 4)
        ref = m * post['rgb'][:, 1] + (1 - m) * post['sobel'][:, 1]
        torch.testing.assert_close(model.manipulation_maps(feats), ref)
        torch.testing.assert_close(
            model.manipulation_maps(feats, target_class=1), ref)
    with pytest.raises(ValueError, match='map_norm'):
        _model(map_norm='sigmoid')


def test_gated_manipulation_map_is_fake_probability_times_minmax():
    torch.manual_seed(0)
    model = _model(map_norm='gated').eval()
    data = _batch(model, training=False)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        ref = []
        for b, f in feats['branch'].items():
            post = model.heads[b].car_maps(f['feat'], norm='posterior')[:, 1]
            lo = post.flatten(1).min(1)[0][:, None, None]
            hi = post.flatten(1).max(1)[0][:, None, None]
            p_fake = f['logits'].softmax(-1)[:, 1, None, None]
            ref.append((post - lo) / (hi - lo) * p_fake)
        m = feats['token_mask'].view(-1, 4, 4)
        torch.testing.assert_close(model.manipulation_maps(feats),
                                   m * ref[0] + (1 - m) * ref[1])


def test_carp_neck_shapes_and_grid_check():
    neck = CARPNeck(in_channels=8, k=4)
    out = neck(torch.randn(2, 12, 8), (3, 4))
    assert out.shape == (2, 8, 3, 4)
    with pytest.raises(ValueError, match='grid'):
        neck(torch.randn(2, 11, 8), (3, 4))
    with pytest.raises(ValueError):
        CARPNeck(in_channels=8, kernel_size=5)


def test_token_selection_is_torch_gumbel_softmax_in_training():
    scores = torch.randn(3, 7, 2, requires_grad=True)
    torch.manual_seed(123)
    m = token_selection(scores, training=True, tau=0.7)
    torch.manual_seed(123)
    ref = F.gumbel_softmax(scores, tau=0.7, hard=True, dim=-1)[..., 0]
    torch.testing.assert_close(m, ref)
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    m.sum().backward()  # straight-through: gradients reach the scores
    assert scores.grad is not None and scores.grad.abs().sum() > 0
    # test time: deterministic argmax, no noise
    m1 = token_selection(scores, training=False)
    m2 = token_selection(scores, training=False)
    torch.testing.assert_close(m1, m2)
    torch.testing.assert_close(
        m1, (scores.argmax(-1) == 0).float())


def test_cl_neck_fuses_by_the_mask():
    torch.manual_seed(0)
    cl = ComplementaryLearningNeck(embed_dim=8, num_heads=2).eval()
    a, b = torch.randn(2, 6, 8), torch.randn(2, 6, 8)
    feat, m = cl(a, b)
    assert feat.shape == (2, 8) and m.shape == (2, 6)
    # the fused tokens seen by the block are M*a + (1-M)*b
    seen = {}
    cl.block.register_forward_pre_hook(lambda mod, i: seen.setdefault(
        'x', i[0]))
    cl(a, b)
    mm = m.unsqueeze(-1)
    torch.testing.assert_close(seen['x'], mm * a + (1 - mm) * b)
    with pytest.raises(ValueError, match='equal token shapes'):
        cl(a, b[:, :5])


def test_focus_loss_backward_and_predict():
    torch.manual_seed(0)
    model = _model()
    data = _batch(model)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_loc_rgb', 'loss_loc_sobel', 'loss_fused',
                           'acc'}
    # lambda = 0.1 on the fused CE
    feats = model.extract_feat(data['inputs'])
    assert torch.isfinite(losses['loss_fused'])
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
    model.eval()
    with torch.no_grad():
        out = model(**_batch(model, training=False), mode='predict')
    s = out[0]
    assert s.pred_score.shape == (2, ) and abs(float(s.pred_score.sum()) -
                                              1) < 1e-5
    assert s.pred_map.shape == (32, 32) and s.pred_map_fake.shape == (32, 32)
    assert 0 <= float(s.pred_map.min()) and float(s.pred_map.max()) <= 1
    assert s.token_mask.shape == (4, 4)
    assert feats['branch']['rgb']['feat'].shape == (4, 8, 4, 4)


def test_fused_loss_weight_is_lambda():
    torch.manual_seed(0)
    model = _model(fused_weight=1.0).eval()
    data = _batch(model, training=False)
    base = model(**data, mode='loss')['loss_fused']
    model.fused_weight = 0.1
    torch.testing.assert_close(model(**data, mode='loss')['loss_fused'],
                               0.1 * base)


def test_fused_map_is_eq5_hadamard_combination():
    torch.manual_seed(0)
    model = _model().eval()
    data = _batch(model, training=False)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        fused = model.manipulation_maps(feats)
        a = model._branch_maps('rgb', feats['branch']['rgb'], (4, 4))
        b = model._branch_maps('sobel', feats['branch']['sobel'], (4, 4))
        ca = feats['branch']['rgb']['logits'].argmax(-1)
        cb = feats['branch']['sobel']['logits'].argmax(-1)
        idx = torch.arange(4)
        m = feats['token_mask'].view(-1, 4, 4)
        ref = m * a[idx, ca] + (1 - m) * b[idx, cb]
        torch.testing.assert_close(fused, ref)
        fake = model.manipulation_maps(feats, target_class=1)
        torch.testing.assert_close(fake, m * a[:, 1] + (1 - m) * b[:, 1])


@pytest.mark.parametrize('kw', [
    dict(cl_neck=None),
    dict(map_source='attention'),
    dict(modalities=('rgb', )),
    dict(modalities=('rgb', 'rgb')),
    dict(modalities=('rgb', 'dct')),
    dict(modalities=('rgb', 'srm')),
])
def test_ablation_variants_train_and_predict(kw):
    torch.manual_seed(0)
    model = _model(**kw)
    data = _batch(model)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    model.eval()
    with torch.no_grad():
        out = model(**_batch(model, training=False), mode='predict')
    assert out[0].pred_map.shape == (32, 32)
    if kw.get('cl_neck', 1) is None or kw.get('modalities') == ('rgb', ):
        assert 'loss_fused' not in losses


def test_no_cl_map_is_elementwise_max():
    torch.manual_seed(0)
    model = _model(cl_neck=None).eval()
    data = _batch(model, training=False)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        idx = torch.arange(4)
        maps = [model._branch_maps(b, f, (4, 4))[idx, f['logits'].argmax(-1)]
                for b, f in feats['branch'].items()]
        torch.testing.assert_close(model.manipulation_maps(feats),
                                   torch.maximum(*maps))


def test_tensor_input_and_bad_inputs():
    model = _model().eval()
    x = torch.randint(0, 256, (2, 3, 32, 32)).float()
    logits, maps = model(x)
    assert logits.shape == (2, 2) and maps.shape == (2, 4, 4)
    with pytest.raises(KeyError, match='sobel'):
        model({'rgb': x})
    with pytest.raises(ValueError, match='1 or 2 modalities'):
        _model(modalities=('rgb', 'sobel', 'dct'))
    with pytest.raises(ValueError, match='differ in shape'):
        model.data_preprocessor(dict(inputs=[
            torch.zeros(3, 32, 32, dtype=torch.uint8),
            torch.zeros(3, 16, 16, dtype=torch.uint8)]))


def test_car_head_centred_pooling_ignores_a_uniform_shift():
    torch.manual_seed(0)
    feat = torch.randn(2, 6, 4, 4, dtype=torch.float64)
    for pool in ('max', 'lse', 'topk'):
        head = CARHead(k=3, pool=pool, pool_center=True)
        torch.testing.assert_close(head(feat + 5.0), head(feat))
        assert not torch.allclose(CARHead(k=3, pool=pool)(feat + 5.0),
                                  CARHead(k=3, pool=pool)(feat))
    # max of the centred channel: how far the peak stands above the mean
    f = feat.numpy().reshape(2, 2, 3, 16)
    ref = (f.max(-1) - f.mean(-1)).mean(-1)
    np.testing.assert_allclose(CARHead(k=3, pool_center=True)(feat).numpy(),
                               ref, rtol=1e-9)


def test_pre_logits_without_cl_are_what_the_logits_average():
    torch.manual_seed(0)
    for head in (dict(type='CARHead', k=4),
                 dict(type='CARHead', k=4, pool='topk', pool_center=True)):
        model = _model(cl_neck=None, modalities=('rgb', ), head=head).eval()
        data = _batch(model, training=False)
        with torch.no_grad():
            pre = model.extract_pre_logits(data['inputs'])
            logits = model.extract_feat(data['inputs'])['branch']['rgb'][
                'logits']
        torch.testing.assert_close(pre.view(-1, 2, 4).mean(-1), logits)
