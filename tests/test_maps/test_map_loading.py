"""Generated maps as training targets (issue 4, bad input): a map of another
size than its face is resized bilinearly with a warning naming the file; a
missing map file fails with its name."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest


def _dataset(root, ann, check_files=True):
    from mmfocus.datasets import FaceForgeryDataset
    return FaceForgeryDataset(
        ann_file=ann, data_root=root, check_files=check_files,
        pipeline=[dict(type='LoadFace'), dict(type='LoadManipulationMask')])


def _with_map(root, m):
    """An annotation whose first fake's mask_path is the map ``m``."""
    entries = json.load(open(osp.join(root, 'val.json')))['data_list']
    i = next(k for k, e in enumerate(entries) if e['gt_label'] == 1)
    if m is not None:
        cv2.imwrite(osp.join(root, 'odd_map.png'), m)
    entries[i]['mask_path'] = 'odd_map.png'
    with open(osp.join(root, 'odd.json'), 'w') as f:
        json.dump(dict(metainfo={}, data_list=entries), f)
    return i


def test_map_of_another_size_is_resized_with_a_warning(data):
    rng = np.random.RandomState(0)
    m = rng.randint(0, 256, (20, 28), np.uint8)  # 28x20 for a 64x64 face
    i = _with_map(data, m)
    ds = _dataset(data, 'odd.json')
    with pytest.warns(UserWarning, match='odd_map.png.*28x20.*64x64'):
        item = ds[i]
    ref = cv2.resize(m.astype(np.float32) / 255., (64, 64),
                     interpolation=cv2.INTER_LINEAR)
    assert item['gt_mask'].shape == (64, 64)
    np.testing.assert_allclose(item['gt_mask'], ref, atol=1e-6)


def test_missing_map_file_names_it(data):
    i = _with_map(data, None)
    assert not osp.exists(osp.join(data, 'odd_map.png'))
    # named when the dataset is built (before any training) ...
    with pytest.raises(FileNotFoundError, match='odd_map.png'):
        _dataset(data, 'odd.json')
    # ... and, with that check off, when the sample is loaded
    ds = _dataset(data, 'odd.json', check_files=False)
    with pytest.raises(FileNotFoundError, match='odd_map.png'):
        ds[i]


def test_generated_maps_load_and_a_deleted_one_is_named(data, tmp_path):
    """The annotation of tools/generate_maps.py through the multitask
    loader; after deleting one map the loader names it."""
    import warnings

    from mmfocus.maps.generate import generate_maps
    summary = generate_maps('val.json', data, 'pixdiff',
                            osp.join(data, 'maps'), progress=False,
                            log=lambda s: None)
    ds = _dataset(data, osp.basename(summary['out_ann']))
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # same size: no resize warning
        items = [ds[k] for k in range(len(ds))]
    fakes = [k for k, it in enumerate(items) if it['gt_label'] == 1]
    assert fakes and all(items[k]['gt_mask'].any() for k in fakes)
    victim = items[fakes[0]]['mask_path']
    os.remove(victim)
    with pytest.raises(FileNotFoundError, match=osp.basename(victim)):
        ds[fakes[0]]
