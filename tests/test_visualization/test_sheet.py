"""Map comparison sheet (Fig. 5 / 7) on the tiny demo data: the grid's pixel
size, each tile against a direct cv2 rendering of its source (the resized
face, the true mask, a tools/generate_maps.py SSIM map, a live FoCus map),
row choice, and clear errors (missing map file, unknown image, existing
output)."""
import json
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOCUS_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
TOOL = 'tools/visualization/map_sheet.py'
# SheetLayout defaults other than the tile: gap 4, title 22, caption 16.
GAP, TITLE_H, CAPTION_H = 4, 22, 16


def _origin(row, col, tile):
    return (TITLE_H + row * (tile + CAPTION_H + GAP), GAP + col * (tile + GAP))


def _tile(img, row, col, tile):
    y, x = _origin(row, col, tile)
    return img[y:y + tile, x:x + tile]


def _heat(m, tile):
    """JET colour image of a [0, 1] map resized bilinearly to the tile."""
    m = cv2.resize(np.asarray(m, np.float32), (tile, tile),
                   interpolation=cv2.INTER_LINEAR)
    return cv2.applyColorMap(
        np.clip(m * 255. + .5, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)


@pytest.fixture
def data(tiny_demo_data, tmp_path, load_tool):
    """A private copy of the tiny demo data with SSIM maps of its test
    split (``test_maps-ssim.json``), made by tools/generate_maps.py as in
    the docs."""
    root = str(tmp_path / 'faces')
    shutil.copytree(tiny_demo_data, root)
    gen = load_tool('tools/generate_maps.py')
    gen.main(['--source', 'ssim', '--ann', 'test.json', '--data-root', root,
              '--out-dir', osp.join(root, 'maps'), '--no-progress'])
    return root


def test_sheet_tool_grid_and_tiles(data, focus_ckpt, tmp_path, run_tool):
    tile = 48
    out = str(tmp_path / 'sheet.png')
    proc = run_tool([
        TOOL, osp.join(data, 'test.json'), '--maps',
        f'SSIM={osp.join(data, "test_maps-ssim.json")}', '--model',
        f'FoCus={FOCUS_CFG}:{focus_ckpt}', '--num', '2', '--with-real',
        '--tile', str(tile), '--device', 'cpu', '--out', out
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    img = cv2.imread(out)
    rows, cols = 4, 4  # 2 fakes + their twins; face, mask, SSIM, FoCus
    assert img.shape == (TITLE_H + rows * (tile + CAPTION_H + GAP),
                         GAP + cols * (tile + GAP), 3) == (294, 212, 3)
    with open(out[:-4] + '.json') as f:
        desc = json.load(f)
    assert desc['columns'] == ['face', 'mask', 'SSIM', 'FoCus']
    labels = [r['label'] for r in desc['rows']]
    assert labels == [1, 0, 1, 0]
    with open(osp.join(data, 'test.json')) as f:
        by_path = {e['img_path']: e for e in json.load(f)['data_list']}
    with open(osp.join(data, 'test_maps-ssim.json')) as f:
        ssim_of = {e['img_path']: e['mask_path']
                   for e in json.load(f)['data_list']}
    from mmfocus.apis import inference_model, init_model
    model = init_model(FOCUS_CFG, focus_ckpt)
    for r, row in enumerate(desc['rows']):
        e = by_path[row['img_path']]
        if r % 2:  # the twin of the fake above
            assert row['img_path'] == by_path[desc['rows'][r - 1][
                'img_path']]['pair_path']
        face = cv2.imread(osp.join(data, e['img_path']))
        np.testing.assert_array_equal(
            _tile(img, r, 0, tile),
            cv2.resize(face, (tile, tile), interpolation=cv2.INTER_LINEAR))
        if e['gt_label']:
            mask = cv2.imread(osp.join(data, e['mask_path']),
                              cv2.IMREAD_GRAYSCALE) / 255.
            ssim = cv2.imread(osp.join(data, ssim_of[e['img_path']]),
                              cv2.IMREAD_GRAYSCALE) / 255.
            assert ssim.max() > 0.05  # a real map, not a blank tile
        else:  # a real face: no manipulation, all-zero target
            mask = ssim = np.zeros(face.shape[:2])
        np.testing.assert_array_equal(_tile(img, r, 1, tile),
                                      _heat(mask, tile))
        np.testing.assert_array_equal(_tile(img, r, 2, tile),
                                      _heat(ssim, tile))
        [pred] = inference_model(model, [face])
        diff = np.abs(_tile(img, r, 3, tile).astype(int) -
                      _heat(pred.pred_map.numpy(), tile).astype(int))
        # batched vs single inference: at most one 8-bit map level apart,
        # i.e. one JET step (255 / 64 per channel)
        assert diff.max() <= 4 and diff.mean() < 0.5


def test_missing_map_file_is_named(data, tmp_path, tool):
    with open(osp.join(data, 'test_maps-ssim.json')) as f:
        fake = next(e for e in json.load(f)['data_list'] if e['mask_path'])
    gone = osp.join(data, fake['mask_path'])
    os.remove(gone)
    with pytest.raises(FileNotFoundError, match=re.escape(gone)):
        tool('map_sheet').main([
            osp.join(data, 'test.json'), '--maps',
            f'SSIM={osp.join(data, "test_maps-ssim.json")}', '--images',
            fake['img_path'], '--out',
            str(tmp_path / 'x.png')
        ])
    assert not osp.exists(tmp_path / 'x.png')


def test_explicit_rows_overlay_and_refusals(data, tmp_path, tool):
    with open(osp.join(data, 'test.json')) as f:
        entries = json.load(f)['data_list']
    fake = [e for e in entries if e['gt_label'] == 1][-1]
    real = entries[0]
    out = str(tmp_path / 'rows.png')
    main = tool('map_sheet').main
    args = [
        osp.join(data, 'test.json'), '--maps',
        f'SSIM={osp.join(data, "test_maps-ssim.json")}', '--images',
        osp.basename(real['img_path']), fake['img_path'], '--no-mask',
        '--alpha', '0.5', '--tile', '32', '--out', out
    ]
    res = main(args)
    assert res['rows'] == [real['img_path'], fake['img_path']]
    assert res['columns'] == ['face', 'SSIM']
    img = cv2.imread(out)
    assert img.shape == (TITLE_H + 2 * (32 + CAPTION_H + GAP),
                         GAP + 2 * (32 + GAP), 3)
    face = cv2.resize(cv2.imread(osp.join(data, fake['img_path'])),
                      (32, 32), interpolation=cv2.INTER_LINEAR)
    with open(osp.join(data, 'test_maps-ssim.json')) as f:
        m = next(e['mask_path'] for e in json.load(f)['data_list']
                 if e['img_path'] == fake['img_path'])
    ssim = cv2.imread(osp.join(data, m), cv2.IMREAD_GRAYSCALE) / 255.
    np.testing.assert_array_equal(
        _tile(img, 1, 1, 32),
        cv2.addWeighted(face, 0.5, _heat(ssim, 32), 0.5, 0))

    with pytest.raises(FileExistsError,
                       match=re.escape(f'output exists: {out}')):
        main(args)
    with pytest.raises(KeyError, match='nope.png'):
        main(args[:5] + ['nope.png', '--out', str(tmp_path / 'y.png')])
    with pytest.raises(ValueError, match='NAME=CONFIG:CHECKPOINT'):
        main([osp.join(data, 'test.json'), '--model', 'F=cfg.py', '--out',
              str(tmp_path / 'z.png')])


def test_python_api_as_documented(data, focus_ckpt, tmp_path):
    from mmfocus.apis.figures import map_sheet, tsne_plot
    ann = osp.join(data, 'test.json')
    res = tsne_plot(FOCUS_CFG, focus_ckpt, str(tmp_path / 'tsne.png'),
                    ann_file=ann, device='cpu', progress=False)
    with open(ann) as f:
        n = len(json.load(f)['data_list'])
    assert res['num_samples'] == n and osp.isfile(res['embedding'])
    res = map_sheet(ann, str(tmp_path / 'sheet.png'),
                    maps={'SSIM': osp.join(data, 'test_maps-ssim.json')},
                    models={'FoCus': (FOCUS_CFG, focus_ckpt)},
                    num=2, with_real=True, device='cpu')
    assert res['columns'] == ['face', 'mask', 'SSIM', 'FoCus']
    assert len(res['rows']) == 4
    assert cv2.imread(res['png']).shape[:2] == res['size'] == \
        (22 + 4 * (128 + 16 + 4), 4 + 4 * (128 + 4))
