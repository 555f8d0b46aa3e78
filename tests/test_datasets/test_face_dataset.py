import json
import os
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


def _copy_data(src, dst):
    import shutil
    shutil.copytree(src, dst)
    return str(dst)


def test_malformed_annotation_names_the_file(tiny_demo_data, tmp_path):
    """A broken annotation JSON gives one error naming the file (mmengine's
    JSONDecodeError names only a line and column)."""
    ann = tmp_path / 'train.json'
    text = open(osp.join(tiny_demo_data, 'train.json')).read()
    ann.write_text(text[:len(text) // 2])  # cut mid-way
    with pytest.raises(ValueError, match='not valid JSON') as e:
        FaceForgeryDataset(ann_file=str(ann))
    assert str(ann) in str(e.value) and 'line' in str(e.value)
    (tmp_path / 'list.json').write_text('[1, 2]')
    with pytest.raises(TypeError) as e:
        FaceForgeryDataset(ann_file=str(tmp_path / 'list.json'))
    assert 'list.json' in str(e.value)


def test_missing_annotated_files_fail_at_load_with_a_count(tiny_demo_data,
                                                           tmp_path):
    """Every img_path / mask_path is checked when the annotation is loaded
    (before any training): one error with the count and the first paths."""
    data = _copy_data(tiny_demo_data, tmp_path / 'data')
    entries = json.load(open(osp.join(data, 'train.json')))['data_list']
    gone = [entries[0]['img_path'], entries[1]['img_path']]
    fake = next(e for e in entries if e.get('mask_path'))
    gone.append(fake['mask_path'])
    for rel in gone:
        os.remove(osp.join(data, rel))
    n = sum(1 + bool(e.get('mask_path')) for e in entries)
    with pytest.raises(FileNotFoundError) as e:
        FaceForgeryDataset(ann_file='train.json', data_root=data)
    msg = str(e.value)
    assert f'3 of {n} annotated files are missing' in msg
    assert 'train.json' in msg and osp.basename(gone[0]) in msg
    # opt-out, and lazy_init defers the check to full_init
    ds = FaceForgeryDataset(ann_file='train.json', data_root=data,
                            check_files=False)
    assert len(ds) == len(entries)
    lazy = FaceForgeryDataset(ann_file='train.json', data_root=data,
                              lazy_init=True)
    with pytest.raises(FileNotFoundError, match='3 of'):
        lazy.full_init()


def test_mask_paths_absolute_or_outside_the_root_load(tiny_demo_data,
                                                      tmp_path):
    """Map annotations of tools/generate_maps.py: relative to the data root,
    '../' for maps outside it (this version), absolute (older versions)."""
    import shutil
    data = _copy_data(tiny_demo_data, tmp_path / 'data')
    ann = json.load(open(osp.join(data, 'val.json')))
    fake = next(e for e in ann['data_list'] if e.get('mask_path'))
    outside = tmp_path / 'maps' / 'x.png'
    outside.parent.mkdir()
    shutil.copy(osp.join(data, fake['mask_path']), outside)
    for name, path in (('rel.json', '../maps/x.png'),
                       ('abs.json', str(outside))):
        fake['mask_path'] = path
        with open(osp.join(data, name), 'w') as f:
            json.dump(ann, f)
        ds = FaceForgeryDataset(ann_file=name, data_root=data)
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        [hit] = [i for i in infos if i['img_path'].endswith(
            fake['img_path'])]
        assert osp.normpath(hit['mask_path']) == str(outside)
