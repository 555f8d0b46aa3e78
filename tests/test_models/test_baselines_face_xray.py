"""Face X-ray (Li et al., CVPR 2020): the X-ray target of hand-made masks
with known answers, the blur against OpenCV / SciPy, the HRNetV2
representation, tiny models from their configs, parameter counts against
timm, pretrained loading and the ``face-xray`` map source."""
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.structures import DataSample
from scipy import ndimage

from mmfocus.models import FaceXray, FaceXrayHead, HRNetV2Concat
from mmfocus.models.utils.map_targets import (gaussian_blur_maps,
                                              gaussian_kernel1d,
                                              stack_map_targets,
                                              xray_targets, xray_to_region)
from mmfocus.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(ROOT, 'configs', 'face-xray')
TINY_CFG = osp.join(CFG_DIR, 'face-xray_hrnet-tiny_demo-sbi.py')
W48_CFGS = [osp.join(CFG_DIR, f'face-xray_hrnet-w48_ffpp-{c}.py')
            for c in ('c23', 'c40')]


def _nparams(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _tiny(**overrides) -> FaceXray:
    cfg = Config.fromfile(TINY_CFG)
    cfg.model.update(overrides)
    return MODELS.build(cfg.model)


def _square_mask(size: int = 64) -> torch.Tensor:
    m = torch.zeros(size, size)
    m[size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
    return m


def _batch(n: int = 2, size: int = 64):
    torch.manual_seed(0)
    x = torch.randn(n, 3, size, size)
    ds = []
    for i in range(n):
        d = DataSample().set_gt_label(i % 2)
        d.set_field(_square_mask(size), 'gt_mask')  # ignored for reals
        ds.append(d)
    return x, ds


# ---------------------------------------------------------------- targets
def test_xray_of_hard_mask_is_zero_except_where_blurred():
    hard = _square_mask(32)[None, None]
    # unblurred: B = 4 M (1 - M) = 0 for a 0/1 mask
    assert torch.count_nonzero(xray_targets(hard, blur='never')) == 0
    assert torch.count_nonzero(xray_targets(hard, kernel_size=1)) == 0
    b = xray_targets(hard)[0, 0]
    # the 3x3 blur touches only pixels within 1 of the edge: a 2-px band
    inside, ring = hard[0, 0].numpy() > 0, np.ones((3, 3), bool)
    edge = ndimage.binary_dilation(inside, ring) & \
        ~ndimage.binary_erosion(inside, ring)
    assert torch.all(b[~torch.from_numpy(edge)] == 0)
    assert torch.all(b[torch.from_numpy(edge)] > 0)
    # known answer with OpenCV's blur (explicit sigma 0.8 = its default)
    soft = cv2.GaussianBlur(hard[0, 0].numpy(), (3, 3), 0.8,
                            borderType=cv2.BORDER_REFLECT_101)
    assert torch.allclose(b, torch.from_numpy(4 * soft * (1 - soft)),
                          atol=1e-6)
    # a straight edge: the side pixels hold M = k0 / 1 - k0, with the outer
    # tap k0 = e / (1 + 2 e), e = exp(-1 / (2 x 0.8^2)), i.e. 0.2390
    e = math.exp(-1 / (2 * 0.8**2))
    k0 = e / (1 + 2 * e)
    assert abs(k0 - 0.2389943) < 1e-6
    assert abs(float(gaussian_kernel1d(3)[0]) - k0) < 1e-9
    assert abs(float(b[16, 8]) - 4 * k0 * (1 - k0)) < 1e-5
    assert abs(float(b[16, 7]) - 4 * k0 * (1 - k0)) < 1e-5


def test_xray_max_at_half_and_real_faces_zero():
    m = torch.tensor([0., .25, .5, .75, 1.]).view(1, 1, 1, 5)
    b = xray_targets(m, blur='never')[0, 0, 0]
    assert torch.allclose(b, torch.tensor([0., .75, 1., .75, 0.]))
    assert int(b.argmax()) == 2
    # a real face: stack_map_targets gives zeros whatever its mask says
    ds = [DataSample().set_gt_label(0)]
    ds[0].set_field(torch.full((8, 8), .5), 'gt_mask')
    maps = stack_map_targets(ds, torch.tensor([0]), (8, 8))
    assert torch.count_nonzero(xray_targets(maps)) == 0
    # 'binary': a soft map is used as it is, a hard one is blurred
    soft = torch.full((1, 1, 6, 6), .5)
    soft[..., :3] = .2
    both = torch.cat([soft, _square_mask(6)[None, None]])
    got = xray_targets(both, blur='binary')
    assert torch.allclose(got[0], 4 * soft[0] * (1 - soft[0]))
    assert torch.allclose(got[1], xray_targets(both[1:], blur='always')[0])
    with pytest.raises(ValueError, match='blur must be'):
        xray_targets(both, blur='sometimes')


@pytest.mark.parametrize('ksize', [3, 5])
def test_blur_matches_cv2_and_scipy(ksize):
    rng = np.random.default_rng(ksize)
    m = rng.random((2, 1, 9, 12)).astype(np.float32)
    sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    got = gaussian_blur_maps(torch.from_numpy(m), ksize).numpy()
    for i in range(2):
        ref = cv2.GaussianBlur(m[i, 0], (ksize, ksize), sigma,
                               borderType=cv2.BORDER_REFLECT_101)
        np.testing.assert_allclose(got[i, 0], ref, atol=1e-6)
        # SciPy: 'mirror' is reflect-101; truncate so the radius is k // 2
        ref = ndimage.gaussian_filter(m[i, 0].astype(np.float64), sigma,
                                      mode='mirror',
                                      truncate=(ksize // 2 + 0.4) / sigma)
        np.testing.assert_allclose(got[i, 0], ref, atol=1e-6)
    with pytest.raises(ValueError, match='odd'):
        gaussian_kernel1d(4)
    with pytest.raises(ValueError, match=r'\(B, 1, h, w\)'):
        gaussian_blur_maps(torch.zeros(1, 2, 4, 4))


def test_region_fills_a_closed_boundary_only():
    b = torch.zeros(1, 1, 20, 20)
    b[..., 4, 4:15] = b[..., 14, 4:15] = b[..., 4:15, 4] = 1
    b[..., 4:15, 14] = 1  # a closed square ring
    open_ = torch.zeros(1, 1, 20, 20)
    open_[..., 10, 2:18] = 0.9  # a line: encloses nothing
    r = xray_to_region(torch.cat([b, open_, torch.zeros_like(b)]))
    assert torch.all(r[0, 0, 4:15, 4:15] == 1)
    assert r[0].sum() == 11 * 11
    assert torch.equal(r[1], open_[0]) and r[2].sum() == 0


# ---------------------------------------------------------------- modules
def test_hrnetv2_concat_shape_and_values():
    torch.manual_seed(0)
    feats = [torch.randn(2, 8 * 2**k, 16 // 2**k, 16 // 2**k)
             for k in range(4)]
    neck = HRNetV2Concat(in_channels=(8, 16, 32, 64))
    out = neck(feats)
    assert out.shape == (2, 120, 16, 16) and neck.out_channels == 120
    assert torch.equal(out[:, :8], feats[0])
    ref = F.interpolate(feats[2], size=(16, 16), mode='bilinear',
                        align_corners=False)
    assert torch.allclose(out[:, 24:56], ref)
    assert torch.equal(neck(feats[0]), feats[0])
    # the tiny config's HRNet at 64 px: four branches at strides 4..32
    model = _tiny().eval()
    with torch.no_grad():
        branches = model.backbone(torch.zeros(1, 3, 64, 64))
        rep = model.extract_feat(torch.zeros(1, 3, 64, 64))[0]
    assert [tuple(f.shape[1:]) for f in branches] == [
        (16, 16, 16), (32, 8, 8), (64, 4, 4), (128, 2, 2)]
    assert rep.shape == (1, 240, 16, 16)


def test_head_loss_is_weighted_pixel_bce():
    torch.manual_seed(0)
    head = FaceXrayHead(6)
    logits = head(torch.randn(2, 6, 4, 4))
    maps = torch.stack([torch.zeros(1, 8, 8), _square_mask(8)[None]])
    want = F.binary_cross_entropy(
        F.interpolate(logits, size=(8, 8), mode='bilinear',
                      align_corners=False).sigmoid(),
        xray_targets(maps))
    assert torch.allclose(head.loss(logits, maps), 100 * want, atol=1e-4)
    x = head.xray(logits, (16, 16))
    assert x.shape == (2, 1, 16, 16) and 0 <= x.min() and x.max() <= 1
    with pytest.raises(ValueError, match='blur must be'):
        FaceXrayHead(6, blur='x')


# ---------------------------------------------------------------- models
def test_tiny_model_tensor_loss_predict():
    model = _tiny()
    assert isinstance(model, FaceXray) and model.with_aux
    x, ds = _batch(2)
    logits, aux = model(x, mode='tensor')
    assert logits.shape == (2, 2) and aux.shape == (2, 1, 16, 16)
    losses = model(x, ds, mode='loss')
    assert set(losses) == {'loss_cls', 'loss_xray', 'acc'}
    assert all(torch.isfinite(v) for v in losses.values())
    (losses['loss_cls'] + losses['loss_xray']).backward()
    for name in ('backbone.conv1.weight', 'xray_head.conv.weight',
                 'cls_convs.0.weight', 'fc.weight'):
        g = dict(model.named_parameters())[name].grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
    # the X-ray loss: real target zeros, fake target the blurred square's
    maps = torch.stack([torch.zeros(1, 64, 64), _square_mask()[None]])
    assert torch.allclose(losses['loss_xray'],
                          model.xray_head.loss(aux, maps), atol=1e-5)
    model.eval()
    with torch.no_grad():
        out = model(x, mode='predict')
        pre = model.extract_pre_logits(x)
    assert out[0].pred_map.shape == (64, 64)
    assert 0 <= float(out[0].pred_map.min()) <= float(
        out[0].pred_map.max()) <= 1
    assert out[0].pred_score.shape == (2, ) and pre.shape == (2, 32)
    # pred_map is the upsampled sigmoid of the X-ray logits
    with torch.no_grad():
        ref = model.xray_head.xray(model(x)[1], (64, 64))
    assert torch.allclose(out[1].pred_map, ref[1, 0])


def test_switches_features_region_and_plain():
    x, ds = _batch(2)
    feat = _tiny(cls_input='features').eval()
    assert feat.fc.in_features == 240 and feat.cls_convs is None
    with torch.no_grad():
        assert feat.extract_pre_logits(x).shape == (2, 240)
    assert set(feat.loss(x, ds)) == {'loss_cls', 'loss_xray', 'acc'}
    bound = _tiny().eval()
    region = _tiny(map_mode='region', region_thr=0.49).eval()
    region.load_state_dict(bound.state_dict())
    with torch.no_grad():
        b = bound.predict(x)[0].pred_map
        r = region.predict(x)[0].pred_map
    assert torch.equal(r, xray_to_region(b[None, None], 0.49)[0, 0])
    assert torch.all(r >= b)
    plain = _tiny(xray_head=None, cls_input='features', feat_channels=240)
    assert not plain.with_aux
    assert set(plain.loss(x, ds)) == {'loss_cls', 'acc'}
    assert 'pred_map' not in plain.eval().predict(x)[0]
    with pytest.raises(ValueError, match='needs an xray_head'):
        _tiny(xray_head=None)
    with pytest.raises(ValueError, match='needs feat_channels'):
        _tiny(xray_head=None, cls_input='features')
    with pytest.raises(ValueError, match='cls_input must be'):
        _tiny(cls_input='boundary')
    with pytest.raises(ValueError, match='map_mode must be'):
        _tiny(map_mode='mask')
    with pytest.raises(ValueError, match='FaceXray: fake sample'):
        _tiny().loss(x, [DataSample().set_gt_label(1)] * 2)


def test_train_step_updates_weights():
    from mmengine.optim import OptimWrapper
    model = _tiny()
    x, ds = _batch(4)
    opt = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = model.xray_head.conv.weight.detach().clone()
    log = model.train_step(dict(inputs=list(x * 50 + 128), data_samples=ds),
                           opt)
    assert np.isfinite(float(log['loss'].detach()))
    assert not torch.equal(before, model.xray_head.conv.weight)


def test_demo_data_gives_soft_mask_targets(tiny_demo_data):
    from mmfocus.registry import DATASETS
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(TINY_CFG)
    dcfg = cfg.test_dataloader.dataset
    dcfg.update(data_root=tiny_demo_data)
    dataset = DATASETS.build(dcfg)
    fakes = [i for i in range(len(dataset))
             if dataset.get_data_info(i)['gt_label'] == 1][:2]
    reals = [i for i in range(len(dataset))
             if dataset.get_data_info(i)['gt_label'] == 0][:1]
    items = [dataset[i] for i in fakes + reals]
    mask = torch.as_tensor(items[0]['data_samples'].gt_mask).float()
    assert ((mask > 0.05) & (mask < 0.95)).any()  # an exact soft mask
    model = MODELS.build(cfg.model)
    data = model.data_preprocessor(
        dict(inputs=[it['inputs'] for it in items],
             data_samples=[it['data_samples'] for it in items]), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_xray'])
    labels = torch.tensor([1, 1, 0])
    maps = stack_map_targets(data['data_samples'], labels, (64, 64))
    t = model.xray_head.targets(maps)
    assert t[:2].amax() > 0.9 and t[2].sum() == 0


# ---------------------------------------------------------------- counts
def test_backbone_counts_match_timm_features():
    timm = pytest.importorskip('timm')
    from mmpretrain.models import HRNet

    # timm's published totals include its classification head and the
    # incre / downsample layers of that head
    full = timm.create_model('hrnet_w18', pretrained=False)
    assert _nparams(full) == 21_299_004
    ref = timm.create_model('hrnet_w18', pretrained=False,
                            features_only=True, feature_location='')
    ours = HRNet(arch='w18')
    assert _nparams(ours) == _nparams(ref) == 9_562_260
    shapes = sorted(tuple(p.shape) for p in ours.parameters())
    assert shapes == sorted(tuple(p.shape) for p in ref.parameters())


@pytest.mark.parametrize('path', W48_CFGS, ids=['c23', 'c40'])
def test_full_size_counts(path):
    cfg = Config.fromfile(path)
    assert cfg.model.backbone.arch == 'w48'
    assert cfg.train_pipeline[2] == dict(type='ResizeFace', scale=256)
    model = MODELS.build(cfg.model)
    # HRNet-w48 stem + stages (= timm hrnet_w48 features_only,
    # feature_location=''; timm's 77,469,864 adds its head)
    assert _nparams(model.backbone) == 65_325_120
    # head: 1x1 conv 720 -> 1; classifier: conv 1->32, 32->64 (+BN), FC
    assert _nparams(model.xray_head) == 720 + 1
    cls = 9 * 32 + 2 * 32 + 9 * 32 * 64 + 2 * 64 + 64 * 2 + 2
    assert _nparams(model) == 65_325_120 + 721 + cls == 65_344_883


def test_tiny_counts():
    model = _tiny()
    assert _nparams(model.xray_head) == 241
    assert _nparams(model.cls_convs) + _nparams(model.fc) == \
        9 * 16 + 2 * 16 + 9 * 16 * 32 + 2 * 32 + 32 * 2 + 2
    assert _nparams(model) == 922_691


def test_pretrained_mmpretrain_checkpoint_loads(tmp_path):
    src = _tiny()
    state = {'backbone.' + k: v for k, v in src.backbone.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(1000, 2048)  # ignored (prefix)
    path = tmp_path / 'hrnet_mmpretrain.pth'
    torch.save(dict(state_dict=state, meta={}), path)
    cfg = Config.fromfile(TINY_CFG)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', prefix='backbone',
                                       checkpoint=str(path))
    model = MODELS.build(cfg.model)
    model.init_weights()
    for k, v in src.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[k], v), k


# ---------------------------------------------------------------- map source
def test_face_xray_map_source():
    from mmfocus.apis import init_model
    from mmfocus.apis.map_sources import pred_maps
    from mmfocus.maps.sources import build_map_source
    model = init_model(TINY_CFG, None)
    assert type(model).__name__ == 'FaceXray'
    # mmpretrain's HRNet takes no img_size: inference reads the input size
    # from the test pipeline's ResizeFace (the demo's 64 px)
    from mmfocus.apis.inference import model_input_size
    assert 'img_size' not in model.cfg.model.backbone
    assert model_input_size(model) == (64, 64)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
             rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)]
    src = build_map_source('face-xray')
    assert src.needs_model
    maps = src.compute(crops, model=model)
    assert [m.shape for m in maps] == [(64, 64), (48, 48)]
    for m in maps:
        assert m.dtype == np.float32 and 0 <= m.min() <= m.max() <= 1
    # the model's own pred_map (the predicted boundary) at its input size
    raw = pred_maps(model, crops[:1])[0]
    np.testing.assert_allclose(maps[0], raw, atol=1e-6)
    with pytest.raises(ValueError, match='Face X-ray model'):
        src.compute(crops, model=nn.Linear(2, 2))
    pcl = MODELS.build(Config.fromfile(
        osp.join(ROOT, 'configs/pcl/pcl-r18_demo-sbi.py')).model)
    with pytest.raises(ValueError, match='got PCL'):
        src.check_model(pcl)
