"""The MAP_SOURCES registry: names, building, checks, resizing, and a
source registered from outside that generate_maps then takes by name."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch.nn as nn

from mmfocus.maps import pixel_diff_map, ssim_map
from mmfocus.maps.generate import comparison_map, generate_maps
from mmfocus.maps.sources import (BaseMapSource, build_map_source,
                                  map_source_class, map_source_names)
from mmfocus.registry import MAP_SOURCES


def test_names_and_kinds():
    assert map_source_names(needs_twin=True) == ('pixdiff', 'pixdiff-thr0.1',
                                                 'ssim')
    assert map_source_names(needs_model=True) == (
        'attention', 'face-xray', 'focus', 'gffd', 'gradcam', 'madd',
        'scorecam', 'uia-vit')
    assert set(map_source_names()) == set(
        map_source_names(needs_twin=True) + map_source_names(needs_model=True))
    with pytest.raises(ValueError, match='unknown map source .*one of'):
        map_source_class('nope')


def test_comparison_sources_are_the_comparison_functions():
    rng = np.random.default_rng(0)
    fake = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    real = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    np.testing.assert_allclose(comparison_map('ssim', fake, real),
                               ssim_map(fake, real), atol=1e-6)
    np.testing.assert_allclose(comparison_map('pixdiff', fake, real),
                               pixel_diff_map(fake, real), atol=1e-6)
    np.testing.assert_array_equal(
        comparison_map('pixdiff-thr0.1', fake, real),
        pixel_diff_map(fake, real, thr=0.1))
    with pytest.raises(ValueError, match='not a comparison map source'):
        comparison_map('focus', fake, real)
    with pytest.raises(ValueError, match='real twin'):
        build_map_source('ssim').compute([fake])


def test_model_sources_refuse_missing_or_wrong_models():
    for name in map_source_names(needs_model=True):
        with pytest.raises(ValueError, match='needs a model'):
            build_map_source(name).check_model(None)
    with pytest.raises(ValueError, match='ViT classifier'):
        build_map_source('gradcam').check_model(nn.Linear(2, 2))
    with pytest.raises(ValueError, match='FoCus model'):
        build_map_source('focus').check_model(nn.Linear(2, 2))
    with pytest.raises(ValueError, match='-CARP'):
        build_map_source('attention').check_model(nn.Linear(2, 2))
    src = build_map_source(dict(type='gradcam', target_layer='x'))
    assert src.target_layer == 'x' and src.name == 'gradcam'
    with pytest.raises(TypeError, match='map source "ssim"'):
        build_map_source('ssim', target_layer='x')


class _Centre(BaseMapSource):
    """A test source: 1 in the central quarter of a 4x4 map, else 0."""

    def maps(self, imgs, twins=None, model=None, batch_size=16):
        m = np.zeros((4, 4), np.float32)
        m[1:3, 1:3] = 1
        return [m for _ in imgs]


def test_a_registered_source_is_a_generate_maps_source(tiny_demo_data,
                                                       tmp_path):
    MAP_SOURCES.register_module('test-centre', module=_Centre)
    try:
        assert 'test-centre' in map_source_names(needs_twin=False,
                                                 needs_model=False)
        root = tiny_demo_data
        summary = generate_maps('test.json', root, 'test-centre',
                                str(tmp_path / 'maps'),
                                out_ann=str(tmp_path / 'out.json'),
                                progress=False, log=lambda s: None)
        with open(summary['out_ann']) as f:
            ann = json.load(f)
        fakes = [e for e in ann['data_list'] if e['gt_label'] == 1]
        assert fakes and summary['written'] == len(fakes)
        e = fakes[0]
        img = cv2.imread(osp.join(root, e['img_path']))
        m = cv2.imread(osp.join(root, e['mask_path']), cv2.IMREAD_UNCHANGED)
        assert m.shape == img.shape[:2]  # resized to the crop
        h, w = m.shape
        assert m[h // 2, w // 2] == 255 and m[1, 1] == 0
    finally:
        MAP_SOURCES._module_dict.pop('test-centre', None)
