"""MultiTaskDetector (Fig. 4): configs, losses by hand, predict, params."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.structures import DataSample

import mmfocus  # noqa: F401  (stack fixes before mmseg)
from mmfocus.models import MultiTaskDetector
from mmfocus.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG_DIR = osp.join(ROOT, 'configs', 'multitask')
SOURCES = ('none', 'focus', 'ssim', 'pixdiff', 'pixdiff-thr0.1', 'gradcam',
           'scorecam', 'attention')
# mmpretrain metafile / method.md: EfficientNet-B4 with its 1000-class head
EFB4_PARAMS = 19_341_616
EFB4_HEAD = 1792 * 1000 + 1000


def tiny(**kwargs) -> MultiTaskDetector:
    cfg = dict(backbone=dict(type='mmpretrain.EfficientNet',
                             arch='b0',
                             out_indices=(2, 3, 4, 5, 6)),
               neck=dict(type='mmseg.FPN',
                         in_channels=[24, 40, 112, 320],
                         out_channels=16,
                         num_outs=4),
               decoder=dict(type='mmseg.FPNHead',
                            in_channels=[16] * 4,
                            in_index=[0, 1, 2, 3],
                            feature_strides=[4, 8, 16, 32],
                            channels=8,
                            num_classes=2,
                            out_channels=1,
                            threshold=0.5,
                            norm_cfg=dict(type='BN')),
               cls_in_channels=1280)
    cfg.update(kwargs)
    return MultiTaskDetector(**cfg)


def batch(size=64, labels=(0, 1, 1), seed=0):
    g = torch.Generator().manual_seed(seed)
    imgs = [
        torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
        for _ in labels
    ]
    samples = []
    for i, label in enumerate(labels):
        ds = DataSample().set_gt_label(label)
        ds.set_field(torch.rand(size, size, generator=g),
                     'gt_mask',
                     dtype=torch.Tensor)
        ds.set_metainfo(dict(img_path=f'img{i}.png'))
        samples.append(ds)
    return dict(inputs=imgs, data_samples=samples)


def test_every_map_source_config_exists_and_differs_only_in_targets():
    for q in ('c23', 'c40'):
        base = Config.fromfile(osp.join(CFG_DIR,
                                        f'efb4-fpn_focus_ffpp-{q}.py'))
        for src in SOURCES:
            cfg = Config.fromfile(
                osp.join(CFG_DIR, f'efb4-fpn_{src}_ffpp-{q}.py'))
            assert cfg.default_scope == 'mmfocus'
            assert cfg.train_dataloader.dataset.data_root == f'data/ffpp/{q}'
            assert cfg.test_dataloader.dataset == base.test_dataloader.dataset
            ann = cfg.train_dataloader.dataset.ann_file
            if src == 'none':
                assert ann == 'train.json'
                assert cfg.model.map_weight == 0 and cfg.model.decoder is None
            else:
                assert ann == f'train_maps-{src}.json'
                assert cfg.model == base.model
                assert cfg.model.map_weight == 0.1


@pytest.mark.parametrize('path',
                         sorted(glob.glob(osp.join(CFG_DIR, '*.py'))),
                         ids=lambda p: osp.basename(p))
def test_config_builds(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    assert isinstance(model, MultiTaskDetector)
    n = sum(p.numel() for p in model.backbone.parameters())
    if cfg.model.backbone.arch == 'b4':
        # the published B4 count without its 1000-class head
        assert n == EFB4_PARAMS - EFB4_HEAD
        assert model.with_map == ('_none_' not in path)


def test_efficientnet_b4_matches_published_param_count():
    import mmpretrain.models  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        clf = PRETRAIN_MODELS.build(
            dict(type='ImageClassifier',
                 backbone=dict(type='EfficientNet', arch='b4'),
                 neck=dict(type='GlobalAveragePooling'),
                 head=dict(type='LinearClsHead',
                           num_classes=1000,
                           in_channels=1792)))
    assert sum(p.numel() for p in clf.parameters()) == EFB4_PARAMS


def test_loss_is_ce_plus_weighted_bce_by_hand():
    torch.manual_seed(0)
    model = tiny(map_weight=0.1)
    model.eval()  # no dropout: the same logits twice
    data = model.data_preprocessor(batch(), False)
    x, samples = data['inputs'], data['data_samples']
    losses = model(x, samples, mode='loss')
    with torch.no_grad():
        logits, map_logits = model(x, mode='tensor')
    labels = torch.tensor([0, 1, 1])
    ce = -logits.log_softmax(-1)[torch.arange(3), labels].mean()
    h, w = map_logits.shape[-2:]
    assert (h, w) == (16, 16)  # stride 4 at 64 px
    target = torch.stack([
        torch.zeros(h, w)
        if label == 0 else F.interpolate(ds.gt_mask[None, None],
                                         size=(h, w),
                                         mode='bilinear',
                                         align_corners=False)[0, 0]
        for ds, label in zip(samples, labels.tolist())
    ])[:, None]
    p = map_logits.sigmoid()
    bce = -(target * p.log() + (1 - target) * (1 - p).log()).mean()
    torch.testing.assert_close(losses['loss_cls'].detach(),
                               ce,
                               rtol=1e-5,
                               atol=1e-6)
    torch.testing.assert_close(losses['loss_map'].detach(),
                               0.1 * bce,
                               rtol=1e-4,
                               atol=1e-6)
    # the real face's non-zero gt_mask is ignored (all-zero target)
    assert samples[0].gt_mask.max() > 0.5


def test_train_step_backward_and_predict():
    torch.manual_seed(0)
    model = tiny()
    model.train()
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    assert set(losses) == {'loss_cls', 'loss_map', 'acc'}
    (losses['loss_cls'] + losses['loss_map']).backward()
    assert model.fc.weight.grad.abs().sum() > 0
    assert model.decoder.conv_seg.weight.grad.abs().sum() > 0
    assert model.backbone.layers[0].conv.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch(size=64), False),
                    mode='predict')
    assert len(out) == 3
    for ds in out:
        assert ds.pred_map.shape == (64, 64)
        assert 0 <= ds.pred_map.min() and ds.pred_map.max() <= 1
        torch.testing.assert_close(ds.pred_score.sum(), torch.tensor(1.))
        assert int(ds.pred_label) == int(ds.pred_score.argmax())


def test_no_map_baselines():
    model = tiny(map_weight=0.)
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    assert 'loss_map' not in losses
    model = tiny(neck=None, decoder=None)
    assert not model.with_map
    model.eval()
    out = model(**model.data_preprocessor(batch(), False), mode='predict')
    assert 'pred_map' not in out[0] and 'pred_score' in out[0]
    with pytest.raises(ValueError, match='neck and decoder'):
        tiny(decoder=None)


def test_fake_without_target_map_names_the_sample():
    model = tiny()
    data = model.data_preprocessor(batch(), True)
    del data['data_samples'][2].gt_mask
    with pytest.raises(ValueError, match='img2.png'):
        model(**data, mode='loss')


def test_channels_last_gives_the_same_outputs():
    torch.manual_seed(0)
    ref = tiny()
    ref.eval()
    cl = tiny(channels_last=True)
    cl.load_state_dict(ref.state_dict())
    cl.eval()
    x = ref.data_preprocessor(batch(), False)['inputs']
    with torch.no_grad():
        a, b = ref(x), cl(x)
    torch.testing.assert_close(a[0], b[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(a[1], b[1], rtol=1e-4, atol=1e-5)
    assert cl.backbone.layers[0].conv.weight.is_contiguous(
        memory_format=torch.channels_last)
