"""PCL and CADDM (Table III) with map-derived targets: target conversions on
hand-made maps with known answers, anchors against torchvision / skimage,
tiny models from their configs, published parameter counts."""
import os.path as osp

import numpy as np
import pytest
import torch
import torchvision
from mmengine.config import Config
from mmpretrain.structures import DataSample
from skimage.measure import label as sk_label
from skimage.measure import regionprops

from mmfocus.models.converters import convert_torchvision_resnet
from mmfocus.models.heads import ArtifactDetectionHead, PatchConsistencyHead
from mmfocus.models.utils.anchors import (artifact_priors, box_iou,
                                          decode_boxes, encode_boxes,
                                          match_priors, multibox_loss,
                                          paint_boxes, point_form)
from mmfocus.models.utils.map_targets import (consistency_targets,
                                              map_to_boxes,
                                              stack_map_targets)
from mmfocus.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


# ---------------------------------------------------------------- targets
def test_consistency_of_a_half_fake_map():
    # 2x2 patches, the left column forged: patches 0 and 2 fake, 1 and 3 real
    m = torch.tensor([[1., 0.], [1., 0.]]).view(1, 1, 2, 2)
    want = torch.tensor([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0],
                         [0, 1, 0, 1]]).float()
    assert torch.equal(consistency_targets(m)[0], want)
    # a real face (all zeros): every pair consistent
    assert torch.equal(consistency_targets(torch.zeros(1, 1, 2, 2))[0],
                       torch.ones(4, 4))
    # soft: a half-forged patch is 0.5-consistent with both
    soft = torch.tensor([[0.5, 0.], [1., 0.]]).view(1, 1, 2, 2)
    assert consistency_targets(soft)[0, 0].tolist() == [1, .5, .5, .5]
    with pytest.raises(ValueError, match=r'\(B, 1, h, w\)'):
        consistency_targets(torch.zeros(1, 2, 2))


def test_pcl_targets_pool_the_map_by_area():
    m = torch.zeros(1, 1, 8, 8)
    m[..., :4, :2] = 1  # the top-left patch of a 2x2 grid is half forged
    g = PatchConsistencyHead.targets(m, (2, 2))[0]
    assert torch.allclose(g[0], torch.tensor([1., .5, .5, .5]))


def test_consistency_volume_matches_a_loop():
    torch.manual_seed(0)
    head = PatchConsistencyHead(6, embed_channels=4)
    x = torch.randn(2, 6, 3, 3)
    with torch.no_grad():
        got = head(x)
        t = head.theta(x).flatten(2)
        p = head.phi(x).flatten(2)
    for b in range(2):
        for i in range(9):
            for j in range(9):
                ref = float(t[b, :, i] @ p[b, :, j]) / 2.0
                assert abs(float(got[b, i, j]) - ref) < 1e-5
    # loss = 10 x mean BCE
    maps = torch.zeros(2, 1, 3, 3)
    ref = torch.nn.functional.binary_cross_entropy(
        got.sigmoid(), torch.ones(2, 9, 9))
    assert torch.allclose(head.loss(got, maps, (3, 3)), 10 * ref, atol=1e-5)


def test_inconsistency_map_of_a_known_volume():
    # patches 0..3; patch 0 inconsistent with all others, the rest agree
    v = torch.ones(1, 4, 4)
    v[0, 0, 1:] = v[0, 1:, 0] = 0
    logits = torch.logit(v.clamp(1e-6, 1 - 1e-6))
    m = PatchConsistencyHead.inconsistency_map(logits, (2, 2))[0, 0]
    assert torch.allclose(m, torch.tensor([[.75, .25], [.25, .25]]),
                          atol=1e-4)


def test_map_boxes_match_skimage_regionprops():
    m = np.zeros((20, 30), np.float32)
    m[2:6, 3:10] = 1.0  # 28 px
    m[12:19, 20:29] = 0.8  # 63 px: the larger, listed first
    m[0, 29] = 0.9  # 1 px: below min_area
    boxes = map_to_boxes(torch.from_numpy(m), thr=0.5, min_area=0.01)
    ref = []
    for r in sorted(regionprops(sk_label(m >= 0.5, connectivity=2)),
                    key=lambda r: -r.area):
        if r.area / m.size >= 0.01:
            y0, x0, y1, x1 = r.bbox
            ref.append([x0 / 30, y0 / 20, x1 / 30, y1 / 20])
    assert torch.allclose(boxes, torch.tensor(ref), atol=1e-6)
    assert boxes.shape == (2, 4)
    # relative threshold: a weak map still gives its region
    weak = torch.from_numpy(m * 0.1)
    assert map_to_boxes(weak, 0.5, relative=True).shape[0] == 2
    assert map_to_boxes(weak, 0.5, relative=False).shape[0] == 0
    assert map_to_boxes(torch.zeros(8, 8)).shape == (0, 4)
    with pytest.raises(ValueError, match=r'\(h, w\)'):
        map_to_boxes(torch.zeros(1, 8, 8))


def test_stack_targets_reals_zero_and_missing_mask_error():
    ds = [DataSample().set_gt_label(0), DataSample().set_gt_label(1)]
    ds[0].set_field(torch.ones(4, 4), 'gt_mask')  # ignored: real
    ds[1].set_field(torch.ones(4, 4), 'gt_mask')
    t = stack_map_targets(ds, torch.tensor([0, 1]), (2, 2))
    assert t[0].sum() == 0 and torch.all(t[1] == 1)
    with pytest.raises(ValueError, match='has no gt_mask'):
        stack_map_targets([DataSample().set_gt_label(1)], torch.tensor([1]),
                          (2, 2), 'PCL')


# ---------------------------------------------------------------- anchors
def test_priors_layout_and_count():
    pri = artifact_priors((7, 5, 3, 1), (40 / 224, 80 / 224, 120 / 224, 1),
                          (80 / 224, 120 / 224, 160 / 224, 1))
    assert pri.shape == (2 * (49 + 25 + 9 + 1), 4)  # CADDM: 168
    # first location: centre (1/14, 1/14), a 40x80 box and its transpose
    assert torch.allclose(pri[0], torch.tensor([1 / 14, 1 / 14, 40 / 224,
                                                80 / 224]))
    assert torch.allclose(pri[1], torch.tensor([1 / 14, 1 / 14, 80 / 224,
                                                40 / 224]))
    assert torch.allclose(pri[2, :2], torch.tensor([3 / 14, 1 / 14]))
    assert torch.equal(pri[-1], torch.tensor([.5, .5, 1., 1.]))


def test_iou_matches_torchvision():
    torch.manual_seed(0)
    a = torch.rand(5, 2) * .5
    a = torch.cat([a, a + torch.rand(5, 2) * .5 + .01], 1)
    b = torch.rand(7, 2) * .5
    b = torch.cat([b, b + torch.rand(7, 2) * .5 + .01], 1)
    assert torch.allclose(box_iou(a, b), torchvision.ops.box_iou(a, b),
                          atol=1e-6)


def test_encode_decode_round_trip_and_known_offset():
    pri = torch.tensor([[.5, .5, .2, .4]])
    box = torch.tensor([[.45, .35, .65, .75]])  # centre (.55, .55), .2 x .4
    enc = encode_boxes(box, pri)
    assert torch.allclose(enc, torch.tensor([[.05 / (.1 * .2),
                                              .05 / (.1 * .4), 0., 0.]]), atol=1e-5)
    assert torch.allclose(decode_boxes(enc, pri), box, atol=1e-6)
    torch.manual_seed(0)
    loc = torch.randn(3, 4) * .3
    pri3 = torch.tensor([[.3, .3, .2, .2], [.6, .5, .3, .1], [.5, .5, 1, 1]])
    back = encode_boxes(decode_boxes(loc, pri3), pri3)
    assert torch.allclose(back, loc, atol=1e-5)


def test_matching_positives_and_reals():
    pri = artifact_priors((2, 1), (.5, 1.), (.5, 1.))  # 4 quarters + face
    quarter = point_form(pri[:1])  # the top-left quarter itself
    loc_t, conf_t = match_priors(quarter, pri, iou_thr=0.5)
    # both priors of the top-left location are that exact box (0.5 x 0.5)
    assert conf_t.tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert torch.allclose(loc_t[0], torch.zeros(4), atol=1e-6)
    # a box no prior overlaps by 0.5 still claims its best prior
    small = torch.tensor([[.0, .0, .1, .1]])
    _, c = match_priors(small, pri, iou_thr=0.5)
    assert c.sum() == 1 and c[0] == 1
    loc_r, conf_r = match_priors(torch.zeros(0, 4), pri)
    assert conf_r.sum() == 0 and loc_r.abs().sum() == 0


def test_multibox_loss_by_hand():
    # one image, 4 priors: prior 0 positive; negatives ranked by CE
    conf = torch.tensor([[[0., 0.], [0., 2.], [0., 1.], [0., -1.]]])
    conf_t = torch.tensor([[1, 0, 0, 0]])
    loc = torch.tensor([[[.5, 0., 0., 0.], [9., 9, 9, 9], [0] * 4,
                         [0] * 4]])
    loc_t = torch.zeros(1, 4, 4)
    l_loc, l_conf = multibox_loss(loc, conf, loc_t, conf_t, neg_pos=2)
    ce = torch.nn.functional.cross_entropy
    # positives + the 2 hardest negatives (priors 1 and 2), / 1 positive
    want = (ce(conf[0, :3], torch.tensor([1, 0, 0]), reduction='sum'))
    assert torch.allclose(l_conf, want)
    assert torch.allclose(l_loc, torch.tensor(.5 * .5 ** 2))  # smooth L1
    # a real image (no positive) adds nothing unless min_neg asks
    z = multibox_loss(loc, conf, loc_t, torch.zeros(1, 4, dtype=torch.long))
    assert float(z[0]) == 0 and float(z[1]) == 0
    _, c1 = multibox_loss(loc, conf, loc_t,
                          torch.zeros(1, 4, dtype=torch.long), min_neg=1)
    assert torch.allclose(c1, ce(conf[0, 1:2], torch.tensor([0])))


def test_paint_boxes():
    boxes = torch.tensor([[[0., 0., .5, .5], [0., 0., 1., 1.]]])
    scores = torch.tensor([[.9, .2]])
    m = paint_boxes(boxes, scores, (4, 4))[0]
    want = torch.full((4, 4), .2)
    want[:2, :2] = .9
    assert torch.allclose(m, want)


def test_adm_targets_from_a_map():
    head = ArtifactDetectionHead(8, min_sizes=(.25, .5, .75, 1.),
                                 max_sizes=(.25, .5, .75, 1.))
    pri = head.priors((7, 5, 3, 1), 'cpu')
    maps = torch.zeros(3, 1, 56, 56)
    maps[1, 0, :28, :28] = 1  # the top-left quarter forged
    loc_t, conf_t = head.targets(maps, torch.tensor([0, 1, 1]), pri)
    assert conf_t[0].sum() == 0  # real: all background
    pos = point_form(pri[conf_t[1] > 0])
    assert pos.shape[0] >= 1
    iou = box_iou(pos, torch.tensor([[0., 0., .5, .5]]))
    assert bool((iou >= .5).all())
    # an all-zero fake map falls back to the whole face
    whole = point_form(pri[conf_t[2] > 0])
    iou = box_iou(whole, torch.tensor([[0., 0., 1., 1.]]))[:, 0]
    assert bool((iou >= .5).all()) and int((iou > .999).sum()) == 2
    head.face_box = True
    b = head.boxes_of(maps[1, 0])
    assert b.tolist()[0] == [0., 0., 1., 1.] and b.shape[0] == 2


def test_adm_rejects_a_small_feature_map():
    head = ArtifactDetectionHead(8)
    with pytest.raises(ValueError, match='at least 7x7'):
        head(torch.zeros(1, 8, 4, 4))


# ------------------------------------------------------------------ models
def _batch(n=4, size=64):
    torch.manual_seed(0)
    x = torch.randn(n, 3, size, size)
    ds = []
    for i in range(n):
        d = DataSample().set_gt_label(i % 2)
        m = torch.zeros(size, size)
        if i % 2:
            m[size // 4:size // 2, size // 4:3 * size // 4] = 1
        d.set_field(m, 'gt_mask')
        ds.append(d)
    return x, ds


@pytest.mark.parametrize('cfg_path,aux', [
    ('configs/pcl/pcl-r18_demo-sbi.py', {'loss_pcl'}),
    ('configs/caddm/caddm-r18_demo-sbi.py',
     {'loss_det_loc', 'loss_det_conf'}),
])
def test_tiny_detector_from_config_trains_and_predicts(cfg_path, aux):
    cfg = Config.fromfile(osp.join(ROOT, cfg_path))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    x, ds = _batch()
    losses = model.loss(x, ds)
    assert set(losses) == {'loss_cls', 'acc'} | aux
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def total():
        out = model.loss(x, ds)
        return sum(v for k, v in out.items() if k.startswith('loss'))

    with torch.no_grad():
        first = float(total())
    for _ in range(5):
        opt.zero_grad()
        loss = total()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert float(total()) < first
    model.eval()
    with torch.no_grad():
        out = model.predict(x)
        logits, branch = model(x)
    assert logits.shape == (4, 2) and branch is not None
    assert out[0].pred_map.shape == (64, 64)
    assert 0 <= float(out[0].pred_map.min()) <= \
        float(out[0].pred_map.max()) <= 1
    assert torch.allclose(out[0].pred_score.sum(), torch.tensor(1.))
    assert model.extract_pre_logits(x).shape == (4, 512)


@pytest.mark.parametrize('cfg_path', [
    'configs/experiments/pcl-r18_none_demo-sbi.py',
    'configs/experiments/caddm-r18_none_demo-sbi.py'
])
def test_no_branch_baseline(cfg_path):
    model = MODELS.build(Config.fromfile(osp.join(ROOT, cfg_path)).model)
    assert not model.with_aux
    x, ds = _batch(2)
    assert set(model.loss(x, ds)) == {'loss_cls', 'acc'}
    assert 'pred_map' not in model.eval().predict(x)[0]


def test_fake_without_map_is_a_clear_error():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pcl/pcl-r18_demo-sbi.py'))
    model = MODELS.build(cfg.model)
    x, _ = _batch(2)
    ds = [DataSample().set_gt_label(0), DataSample().set_gt_label(1)]
    with pytest.raises(ValueError, match='PCL: fake sample .* no gt_mask'):
        model.loss(x, ds)


def test_full_size_backbones_match_published_counts():
    # ResNet-34 with its 1000-class head: 21,797,672 (torchvision)
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/pcl/pcl-r34_focus_ffpp-c23.py'))
    model = MODELS.build(cfg.model)
    backbone = sum(p.numel() for p in model.backbone.parameters())
    assert backbone + 512 * 1000 + 1000 == 21_797_672
    assert backbone + 512 * 1000 + 1000 == sum(
        p.numel() for p in torchvision.models.resnet34().parameters())
    # PCL adds two 1x1 convs (256 -> 256) and the 2-class classifier
    assert sum(p.numel() for p in model.parameters()) == \
        backbone + 2 * (256 * 256 + 256) + 512 * 2 + 2
    x = torch.zeros(1, 3, 224, 224)
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(x)
    assert feats[0].shape[-2:] == (14, 14)  # the PCL grid at 224 px
    cad = MODELS.build(Config.fromfile(
        osp.join(ROOT, 'configs/caddm/caddm-r34_focus_ffpp-c23.py')).model)
    with torch.no_grad():
        loc, conf, _, sizes = cad.eval().adm_head(
            cad.extract_feat(x)[-1])
    assert sizes == (7, 5, 3, 1) and loc.shape == (1, 168, 4)
    assert conf.shape == (1, 168, 2)


def test_torchvision_resnet_converter_gives_equal_outputs():
    from mmpretrain.models import ResNet
    torch.manual_seed(0)
    tv = torchvision.models.resnet18().eval()
    ours = ResNet(depth=18, out_indices=(3, ))
    ours.eval()  # mmpretrain's ResNet.train() returns None
    state = convert_torchvision_resnet(tv.state_dict(),
                                       ours.state_dict().keys(), prefix='')
    ours.load_state_dict(state, strict=True)
    x = torch.randn(1, 3, 64, 64)
    body = torch.nn.Sequential(*list(tv.children())[:-2])
    with torch.no_grad():
        assert torch.allclose(body(x), ours(x)[0], atol=1e-5)
    with pytest.raises(KeyError, match='not a torchvision ResNet'):
        convert_torchvision_resnet(tv.state_dict(),
                                   ResNet(depth=34).state_dict().keys())


def test_resnet_tool_writes_a_checkpoint_pcl_loads(tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'tv_resnet_tool',
        osp.join(ROOT, 'tools/model_converters/tv_resnet_to_mmpretrain.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    src = tmp_path / 'resnet18.pth'
    torch.save(torchvision.models.resnet18().state_dict(), src)
    dst = tmp_path / 'r18.pth'
    tool.main([str(src), str(dst), '--depth', '18'])
    cfg = Config.fromfile(osp.join(ROOT, 'configs/pcl/pcl-r18_demo-sbi.py'))
    cfg.model.backbone.init_cfg = dict(type='Pretrained', prefix='backbone',
                                       checkpoint=str(dst))
    model = MODELS.build(cfg.model)
    model.init_weights()
    ref = torch.load(src)
    assert torch.equal(model.backbone.conv1.weight, ref['conv1.weight'])
    with pytest.raises(FileExistsError):
        tool.main([str(src), str(dst), '--depth', '18'])
    with pytest.raises(KeyError, match='not a torchvision ResNet'):
        tool.main([str(src), str(tmp_path / 'x.pth'), '--depth', '34'])
