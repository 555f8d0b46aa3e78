# Copyright (c) mmfocus contributors.
import copy

import numpy as np
import pytest
import torch

from mmfocus.datasets.transforms.self_blend import SelfBlend
from mmfocus.registry import TRANSFORMS


def _face(size=96, seed=0):
    """Textured image + a plausible 68-point layout (iBUG order)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(40, 216, (size, size, 3), dtype=np.uint8)
    c, r = size / 2, size * 0.3
    t = np.linspace(np.pi * 0.05, np.pi * 0.95, 17)
    jaw = np.stack([c - r * np.cos(t), c - 0.1 * size + r * np.sin(t)], 1)
    brows = np.stack([np.linspace(c - r * 0.8, c + r * 0.8, 10),
                      np.full(10, c - r * 0.6)], 1)
    nose = np.stack([np.r_[np.full(4, c), np.linspace(c - 8, c + 8, 5)],
                     np.r_[np.linspace(c - r * 0.4, c, 4),
                           np.full(5, c + 4)]], 1)
    eyes = np.stack([np.r_[np.linspace(c - 20, c - 8, 6),
                           np.linspace(c + 8, c + 20, 6)],
                     np.full(12, c - r * 0.35)], 1)
    mouth = np.stack([np.linspace(c - 12, c + 12, 20),
                      c + r * 0.45 + np.sin(np.linspace(0, 6, 20))], 1)
    lmk = np.concatenate([jaw, brows, nose, eyes, mouth]).astype(np.float32)
    assert lmk.shape == (68, 2)
    return dict(img=img, landmarks=lmk, gt_label=0, method='real')


def test_turns_real_into_fake():
    results = _face()
    real = results['img'].copy()
    out = SelfBlend(prob=1.0, seed=0)(copy.deepcopy(results))
    assert out['gt_label'] == 1 and out['method'] == 'sbi'
    assert out['has_mask'] is True
    mask = out['gt_mask']
    assert mask.shape == real.shape[:2] and mask.dtype == np.float32
    assert 0 <= mask.min() and 0 < mask.max() <= 1
    assert out['img'].shape == real.shape and out['img'].dtype == np.uint8
    np.testing.assert_array_equal(out['img'][mask == 0], real[mask == 0])
    assert not np.array_equal(out['img'], real)


def test_keeps_real_with_zero_mask():
    results = _face()
    out = SelfBlend(prob=0.0)(copy.deepcopy(results))
    assert out['gt_label'] == 0 and out['method'] == 'real'
    np.testing.assert_array_equal(out['img'], results['img'])
    assert out['gt_mask'].shape == (96, 96)
    assert out['gt_mask'].dtype == np.float32 and not out['gt_mask'].any()


def test_skips_fakes():
    results = _face()
    results['gt_label'] = 1
    results['gt_mask'] = np.full((96, 96), 0.5, np.float32)
    out = SelfBlend(prob=1.0)(copy.deepcopy(results))
    np.testing.assert_array_equal(out['img'], results['img'])
    assert (out['gt_mask'] == 0.5).all() and out['gt_label'] == 1


def test_probability_and_seeding():
    t1, t2 = SelfBlend(prob=0.5, seed=3), SelfBlend(prob=0.5, seed=3)
    labels1, labels2 = [], []
    for i in range(40):
        a, b = t1(_face(seed=i)), t2(_face(seed=i))
        np.testing.assert_array_equal(a['img'], b['img'])
        labels1.append(a['gt_label'])
        labels2.append(b['gt_label'])
    assert labels1 == labels2
    assert 8 <= sum(labels1) <= 32
    # global np.random state (what mmengine seeds per worker)
    t = SelfBlend(prob=1.0)
    np.random.seed(5)
    a = t(_face())
    np.random.seed(5)
    b = t(_face())
    np.testing.assert_array_equal(a['img'], b['img'])
    np.testing.assert_array_equal(a['gt_mask'], b['gt_mask'])


def test_registry_repr_and_errors():
    t = TRANSFORMS.build(dict(type='SelfBlend', prob=0.3, seed=1))
    assert isinstance(t, SelfBlend)
    assert repr(t).startswith('SelfBlend(prob=0.3, seed=1, hull_types=')
    with pytest.raises(ValueError, match='prob'):
        SelfBlend(prob=1.5)
    results = _face()
    del results['landmarks']
    with pytest.raises(KeyError, match='landmarks'):
        t(results)


def test_regions_and_forced_decision():
    results = _face()
    t = SelfBlend(prob=0.5, seed=0, regions=('mouth', 'eyes'),
                  region_probs=(1, 0))
    out = t(dict(copy.deepcopy(results), sbi_force=True))
    assert out['gt_label'] == 1 and out['method'] == 'sbi-mouth'
    assert out['region'] == 'mouth'
    # forced real whatever prob says
    t = SelfBlend(prob=1.0, seed=0)
    out = t(dict(copy.deepcopy(results), sbi_force=False))
    assert out['gt_label'] == 0 and not out['gt_mask'].any()
    # region draws follow region_probs
    t = SelfBlend(prob=1.0, seed=1, regions=('face', 'nose'),
                  region_probs=(3, 1))
    methods = [t(copy.deepcopy(results))['method'] for _ in range(200)]
    frac = methods.count('sbi') / 200
    assert 0.65 < frac < 0.85 and set(methods) == {'sbi', 'sbi-nose'}
    with pytest.raises(ValueError, match='regions'):
        SelfBlend(regions=('ear', ))
    with pytest.raises(ValueError, match='region_probs'):
        SelfBlend(regions=('face', 'nose'), region_probs=(1, ))
    assert 'regions=' in repr(SelfBlend())


def test_paired_self_blend_shares_the_augmentation(tiny_demo_data):
    """Each item is [real, its own fake]: the same geometric and
    photometric jitter, so they differ only where the blend mask is on."""
    from mmengine.dataset import Compose

    from mmfocus.datasets import FaceForgeryDataset, flatten_collate
    from mmfocus.utils import register_all_modules
    register_all_modules()
    pipeline = [
        dict(type='LoadFace'),
        dict(type='LoadManipulationMask'),
        dict(type='SelfBlend', prob=0.5, regions=('face', 'mouth'),
             blend_ratios=(1.0, )),
        dict(type='RandomAffineFace', max_rotate=8, scale=(0.9, 1.1),
             max_shift=0.05, prob=1.0),
        dict(type='RandomFaceFlip', prob=0.5),
        dict(type='PackFaceInputs'),
    ]
    ds = FaceForgeryDataset(ann_file='train.json', data_root=tiny_demo_data,
                            methods=(), paired_self_blend=True,
                            pipeline=pipeline, serialize_data=False)
    np.random.seed(0)
    flips = set()
    for i in range(len(ds)):
        real, fake = ds[i]
        assert real['data_samples'].gt_label.item() == 0
        assert fake['data_samples'].gt_label.item() == 1
        assert real['data_samples'].img_path == \
            fake['data_samples'].img_path
        flips.add(fake['data_samples'].flip)
        assert real['data_samples'].flip == fake['data_samples'].flip
        mask = fake['data_samples'].gt_mask
        # the warp interpolates: a pixel next to the mask may mix in blend
        near = torch.nn.functional.max_pool2d(mask[None, None], 5, 1,
                                              2)[0, 0]
        diff = (real['inputs'].int() - fake['inputs'].int()).abs().amax(0)
        # identical outside the (warped) blend mask, not identical inside
        assert diff[near == 0].max() <= 1
        assert diff[mask > 0.5].float().mean() > 1
    # the stream goes on: two draws of the same item differ
    a, b = ds[0][0]['inputs'], ds[0][0]['inputs']
    assert not np.array_equal(a.numpy(), b.numpy())
    batch = flatten_collate([ds[0], ds[1]])
    assert batch['inputs'].shape[0] == 4
    assert [s.gt_label.item() for s in batch['data_samples']] == [0, 1, 0, 1]
    with pytest.raises(ValueError, match='SelfBlend'):
        FaceForgeryDataset(ann_file='train.json', data_root=tiny_demo_data,
                           methods=(), paired_self_blend=True,
                           pipeline=[dict(type='LoadFace')])
    plain = FaceForgeryDataset(ann_file='train.json',
                               data_root=tiny_demo_data, methods=(),
                               pipeline=[dict(type='LoadFace')])
    assert isinstance(plain[0], dict)
    assert isinstance(Compose(pipeline), Compose)


def test_paired_self_blend_in_test_mode_has_every_pair(tiny_demo_data):
    """In test mode item 2i is real face i and 2i+1 its own fake (seeded by
    i): mmengine's evaluator keeps len(dataset) results, so every face and
    every fake is scored, and two passes give the same items."""
    from mmfocus.datasets import FaceForgeryDataset
    from mmfocus.utils import register_all_modules
    register_all_modules()
    pipeline = [
        dict(type='LoadFace'),
        dict(type='LoadManipulationMask'),
        dict(type='SelfBlend', regions=('face', 'mouth')),
        dict(type='RandomFaceFlip', prob=0.5),
        dict(type='PackFaceInputs'),
    ]
    kw = dict(ann_file='train.json', data_root=tiny_demo_data, methods=(),
              paired_self_blend=True, pipeline=pipeline)
    train = FaceForgeryDataset(**kw)
    test = FaceForgeryDataset(test_mode=True, **kw)
    assert len(test) == 2 * len(train)
    first = [test[i] for i in range(len(test))]
    for i in range(0, len(test), 2):
        real, fake = first[i], first[i + 1]
        assert real['data_samples'].gt_label.item() == 0
        assert fake['data_samples'].gt_label.item() == 1
        assert real['data_samples'].img_path == \
            fake['data_samples'].img_path
        assert real['data_samples'].flip == fake['data_samples'].flip
    again = test[len(test) - 1]
    assert np.array_equal(again['inputs'].numpy(),
                          first[-1]['inputs'].numpy())
