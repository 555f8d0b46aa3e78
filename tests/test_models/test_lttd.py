"""LTTD (Table III's video model), its clip data and its patch targets."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample

from mmfocus.models.utils.map_targets import patch_labels, stack_map_targets
from mmfocus.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs/lttd/lttd-tiny_demo-clips.py')


def test_patch_labels_known_cases():
    frac = torch.tensor([[0.0, 0.3, 0.1, 0.0],   # fake: patch 1 >= 0.25
                         [0.0, 0.1, 0.2, 0.0],   # fake, weak map: the peak
                         [0.0, 0.0, 0.0, 0.0],   # fake, empty map: all
                         [0.9, 0.9, 0.0, 0.0]])  # real: all zero
    y = patch_labels(frac, torch.tensor([1, 1, 1, 0]), thr=0.25)
    assert y.tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [1, 1, 1, 1],
                          [0, 0, 0, 0]]


def test_clip_masks_are_averaged_over_frames():
    ds = DataSample().set_gt_label(1)
    m = torch.zeros(4, 8, 8)
    m[:2, :4] = 1  # forged in the top half of 2 of 4 frames
    ds.set_field(m, 'gt_mask')
    t = stack_map_targets([ds], torch.tensor([1]), (2, 2))
    assert torch.allclose(t[0, 0], torch.tensor([[.5, .5], [0., 0.]]))


def _clip_batch(model, n=4, t=8, size=64):
    torch.manual_seed(0)
    x = torch.randn(n, t, 3, size, size)
    ds = []
    for i in range(n):
        d = DataSample().set_gt_label(i % 2)
        m = torch.zeros(t, size, size)
        if i % 2:
            m[:, :size // 2, :size // 2] = 1
        d.set_field(m, 'gt_mask')
        ds.append(d)
    return x, ds


def test_tiny_lttd_trains_and_predicts():
    model = MODELS.build(Config.fromfile(TINY).model)
    x, ds = _clip_batch(model)
    losses = model.loss(x, ds)
    assert set(losses) == {'loss_cls', 'loss_integrity',
                           'loss_inconsistency', 'acc'}
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)

    def total():
        return sum(v for k, v in model.loss(x, ds).items()
                   if k.startswith('loss'))

    with torch.no_grad():
        first = float(total())
    for _ in range(10):
        opt.zero_grad()
        total().backward()
        opt.step()
    with torch.no_grad():
        assert float(total()) < first
    model.eval()
    with torch.no_grad():
        out = model.predict(x)
    assert out[0].pred_map.shape == (64, 64)
    assert 0 <= float(out[1].pred_map.min()) <= float(
        out[1].pred_map.max()) <= 1
    assert model.extract_pre_logits(x).shape == (4, 64)
    # targets of the half-fake clip: the top-left quarter of the 8x8 grid
    y = model.patch_targets(
        stack_map_targets(ds, torch.tensor([0, 1, 0, 1]), (56, 56)),
        torch.tensor([0, 1, 0, 1]), (8, 8))
    want = torch.zeros(8, 8)
    want[:4, :4] = 1
    assert torch.equal(y[1].view(8, 8), want) and y[0].sum() == 0


def test_lttd_bad_inputs_are_clear_errors():
    model = MODELS.build(Config.fromfile(TINY).model)
    with pytest.raises(ValueError, match='clip_len=8'):
        model(torch.zeros(1, 4, 3, 64, 64))
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        model(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match='num_patches=64'):
        model(torch.zeros(1, 8, 3, 32, 32))
    base = MODELS.build(Config.fromfile(osp.join(
        ROOT, 'configs/lttd/lttd-tiny_none_demo-clips.py')).model)
    x, ds = _clip_batch(base, n=2)
    assert set(base.loss(x, ds)) == {'loss_cls', 'acc'}


def _write_clip_ann(tmp_path, n_frames):
    import cv2
    paths = []
    for t in range(n_frames):
        p = tmp_path / f'f{t}.png'
        cv2.imwrite(str(p), np.full((16, 16, 3), 10 * t, np.uint8))
        paths.append(p.name)
    entry = dict(img_path=paths[0], gt_label=0, video_id='v', clip_idx=0,
                 frame_indices=list(range(n_frames)), clip_paths=paths,
                 clip_mask_paths=None, clip_pair_paths=None)
    with open(tmp_path / 'ann.json', 'w') as f:
        json.dump(dict(metainfo={}, data_list=[entry]), f)


def test_clip_dataset_pipeline_and_short_clip_error(tmp_path):
    _write_clip_ann(tmp_path, 4)
    pipeline = [dict(type='LoadClip'), dict(type='LoadClipMasks'),
                dict(type='ResizeClip', scale=8),
                dict(type='PackClipInputs')]
    ds = DATASETS.build(dict(type='FaceClipDataset', data_root=str(tmp_path),
                             ann_file='ann.json', clip_len=3,
                             pipeline=pipeline))
    item = ds[0]
    assert item['inputs'].shape == (3, 3, 8, 8)  # cut to clip_len frames
    assert item['inputs'][:, 0, 0, 0].tolist() == [0, 10, 20]  # in order
    assert item['data_samples'].gt_mask.shape == (3, 8, 8)
    with pytest.raises(ValueError, match='has 4 frames but clip_len is 5'):
        DATASETS.build(dict(type='FaceClipDataset', data_root=str(tmp_path),
                            ann_file='ann.json', clip_len=5,
                            pipeline=pipeline)).full_init()
    (tmp_path / 'f2.png').unlink()
    with pytest.raises(FileNotFoundError, match='1 of 4 annotated files'):
        DATASETS.build(dict(type='FaceClipDataset', data_root=str(tmp_path),
                            ann_file='ann.json', clip_len=4,
                            pipeline=pipeline)).full_init()


def test_frame_dataset_refuses_a_clip_annotation(tmp_path):
    _write_clip_ann(tmp_path, 4)
    with pytest.raises(ValueError, match='clip annotation .* frame dataset'):
        DATASETS.build(dict(type='FaceForgeryDataset',
                            data_root=str(tmp_path), ann_file='ann.json',
                            pipeline=[])).full_init()
