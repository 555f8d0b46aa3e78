import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfocus.datasets import FaceForgeryDataset


def _pipeline(size=32):
    return [
        dict(type='LoadFace'),
        dict(type='LoadManipulationMask'),
        dict(type='ResizeFace', scale=size),
        dict(type='PackFaceInputs'),
    ]


def test_dataset_loads_demo_annotations(tiny_demo_data):
    ds = FaceForgeryDataset(ann_file='test.json', data_root=tiny_demo_data,
                            pipeline=_pipeline(), test_mode=True)
    assert ds.metainfo['classes'] == ('real', 'fake') or \
        list(ds.metainfo['classes']) == ['real', 'fake']
    labels = ds.get_gt_labels()
    assert set(labels.tolist()) == {0, 1}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert osp.isfile(info['img_path'])
        if info['gt_label'] == 1:
            assert osp.isfile(info['mask_path'])
            assert osp.isfile(info['pair_path'])
    fake = next(i for i in range(len(ds)) if labels[i] == 1)
    sample = ds[fake]
    assert sample['inputs'].shape == (3, 32, 32)
    assert sample['inputs'].dtype == torch.uint8
    ds_ = sample['data_samples']
    assert int(ds_.gt_label) == 1
    assert ds_.gt_mask.shape == (32, 32) and float(ds_.gt_mask.max()) > 0
    assert ds_.pair_path.endswith('.png') and ds_.video_id.endswith('_sbi')
    real = next(i for i in range(len(ds)) if labels[i] == 0)
    assert float(ds[real]['data_samples'].gt_mask.abs().sum()) == 0


def test_method_filter_and_errors(tiny_demo_data, tmp_path):
    ds = FaceForgeryDataset(ann_file='train.json', data_root=tiny_demo_data,
                            methods=(), pipeline=[])
    assert all(ds.get_data_info(i)['gt_label'] == 0 for i in range(len(ds)))
    with pytest.raises(FileNotFoundError, match='nope.json'):
        FaceForgeryDataset(ann_file='nope.json', data_root=str(tmp_path))
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(metainfo=dict(classes=['real', 'fake']),
                                   data_list=[dict(img_path='x.png')])))
    with pytest.raises(KeyError, match='gt_label'):
        FaceForgeryDataset(ann_file=str(bad))


def test_missing_and_corrupt_images_name_the_file(tmp_path):
    from mmfocus.datasets.transforms import LoadFace
    with pytest.raises(FileNotFoundError, match='gone.png'):
        LoadFace()(dict(img_path=str(tmp_path / 'gone.png')))
    (tmp_path / 'bad.png').write_bytes(b'\x89PNG\r\n junk')
    with pytest.raises(ValueError, match='bad.png'):
        LoadFace()(dict(img_path=str(tmp_path / 'bad.png')))


def test_resize_and_flip_keep_mask_and_landmarks_aligned():
    from mmfocus.datasets.transforms import RandomFaceFlip, ResizeFace
    img = np.zeros((64, 64, 3), np.uint8)
    img[10:20, 40:50] = 255
    mask = (img[..., 0] > 0).astype(np.float32)
    lm = np.array([[45., 15.]], np.float32)
    r = ResizeFace(32)(dict(img=img, gt_mask=mask, landmarks=lm))
    assert r['img'].shape == (32, 32, 3) and r['gt_mask'].shape == (32, 32)
    ref = cv2.resize(img, (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(r['img'], ref)
    np.testing.assert_allclose(r['landmarks'], [[22.5, 7.5]])
    f = RandomFaceFlip(prob=1.0)(dict(r))
    np.testing.assert_array_equal(f['img'], r['img'][:, ::-1])
    np.testing.assert_array_equal(f['gt_mask'], r['gt_mask'][:, ::-1])
    np.testing.assert_allclose(f['landmarks'], [[31 - 22.5, 7.5]])
    assert 'ResizeFace(scale=(32, 32)' in repr(ResizeFace(32))


def test_load_mask_scales_and_resizes(tmp_path):
    from mmfocus.datasets.transforms import LoadManipulationMask
    m = np.zeros((16, 16), np.uint8)
    m[4:8, 4:8] = 255
    cv2.imwrite(str(tmp_path / 'm.png'), m)
    out = LoadManipulationMask()(dict(img_shape=(32, 32),
                                      mask_path=str(tmp_path / 'm.png'),
                                      gt_label=1))
    assert out['gt_mask'].shape == (32, 32)
    assert out['gt_mask'].max() == pytest.approx(1.0)
    out = LoadManipulationMask()(dict(img_shape=(8, 8), gt_label=0))
    assert out['gt_mask'].sum() == 0 and out['has_mask']
