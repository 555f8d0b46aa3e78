"""The map sources of the baseline detectors (`madd`, `gffd`, `uia-vit`):
each gives one float32 map in [0, 1] per crop at the crop's size, equal to
its model's own ``pred_map`` resized, and refuses a model of another
class before any work. (`face-xray` has its own test in
tests/test_models/test_baselines_face_xray.py.)"""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfocus.apis import inference_model, init_model
from mmfocus.maps.sources import build_map_source

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    'madd': ('configs/madd/madd-efb0_demo-sbi.py', 'MaDD'),
    'gffd': ('configs/gffd/gffd-tiny_demo-sbi.py', 'GFFD'),
    'uia-vit': ('configs/uia-vit/uia-vit_mini_demo-sbi.py', 'UIA-ViT'),
}
OTHER = {'madd': 'gffd', 'gffd': 'uia-vit', 'uia-vit': 'gffd'}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_detector_map_source_matches_pred_map_and_refuses_others(name):
    config, kind = CONFIGS[name]
    torch.manual_seed(0)
    model = init_model(osp.join(ROOT, config), None)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (80, 72, 3), dtype=np.uint8)
             for _ in range(3)]
    src = build_map_source(name)
    assert src.needs_model
    maps = src.compute(crops, model=model, batch_size=2)
    assert [m.shape for m in maps] == [(80, 72)] * 3
    for m in maps:
        assert m.dtype == np.float32 and 0 <= m.min() <= m.max() <= 1
        assert m.std() > 0
    # the model's own pred_map at its input size (64 px), resized
    pm = inference_model(model, crops[:1])[0].pred_map.numpy()
    assert pm.shape == (64, 64)
    assert np.allclose(cv2.resize(pm, (72, 80)), maps[0], atol=1e-5)
    other = init_model(osp.join(ROOT, CONFIGS[OTHER[name]][0]), None)
    with pytest.raises(ValueError, match=f'needs a {kind} model'):
        src.compute(crops, model=other)
