"""The boundary diagnostic (.dev_scripts/analysis/boundary_auc.py) on a
hand-made soft mask whose answers are known: the mask itself scores 1 on
the region, a map of the transition band scores 1 on the band and on band
vs interior, the inverted mask scores 0 on the region."""
import json

import cv2
import numpy as np
import pytest


def _disc(size=56, r=16, soft=6):
    yy, xx = np.mgrid[:size, :size]
    d = np.hypot(yy - size / 2, xx - size / 2)
    return np.clip((r + soft / 2 - d) / soft, 0, 1).astype(np.float32)


def test_known_answers(tmp_path, load_tool):
    tool = load_tool('.dev_scripts/analysis/boundary_auc.py')
    mask = _disc()
    band = ((mask > 0.05) & (mask < 0.95)).astype(np.float32)
    (tmp_path / 'mask').mkdir()
    cv2.imwrite(str(tmp_path / 'mask' / 'a.png'),
                np.round(mask * 255).astype(np.uint8))
    ann = tmp_path / 'test.json'
    ann.write_text(json.dumps({'data_list': [
        dict(img_path='fake/a.png', gt_label=1, method='sbi-mouth',
             mask_path='mask/a.png'),
        dict(img_path='real/a.png', gt_label=0, method='real')]}))
    maps = tmp_path / 'maps'
    for name, m in (('same', mask), ('band', band), ('inverse', 1 - mask)):
        d = maps / name / name / 'fake'
        d.mkdir(parents=True)
        cv2.imwrite(str(d / 'a.png.png'), np.round(m * 255).astype(np.uint8))
    res = tool.main([str(maps), str(ann)])
    assert set(res) == {'same', 'band', 'inverse'}
    assert res['same'][('region', 'local')] == [pytest.approx(1.0)]
    assert res['inverse'][('region', 'local')] == [pytest.approx(0.0)]
    assert res['band'][('boundary', 'local')] == [pytest.approx(1.0)]
    assert res['band'][('boundary vs interior', 'local')] == \
        [pytest.approx(1.0)]
    # the mask is higher inside than on its own edge
    assert res['same'][('boundary vs interior', 'local')][0] < 0.5
    assert not res['same'][('region', 'face')]  # no whole-face fake
