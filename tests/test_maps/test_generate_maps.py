"""tools/generate_maps.py on the tiny demo data: every map source against a
direct computation (skimage SSIM through ``ssim_map``, numpy differences,
``inference_model`` + torch bilinear resizing), reals without maps, the new
annotation through FaceForgeryDataset, resume, unpaired fakes, refusals."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch.nn.functional as F
from maps_fixtures import read_entries, read_map

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')


@pytest.fixture(scope='module')
def tiny_ckpt(random_checkpoint):
    return random_checkpoint(TINY_CFG)


def _reference(source, root, entry):
    from mmfocus.maps import pixel_diff_map, ssim_map
    fake = cv2.imread(osp.join(root, entry['img_path']))
    real = cv2.imread(osp.join(root, entry['pair_path']))
    if source == 'ssim':
        return ssim_map(fake, real)
    if source == 'pixdiff':
        return pixel_diff_map(fake, real)
    return pixel_diff_map(fake, real, thr=0.1)


@pytest.mark.parametrize('source', ['ssim', 'pixdiff', 'pixdiff-thr0.1'])
def test_comparison_sources(data, tmp_path, source, run_maps):
    from mmfocus.datasets import FaceForgeryDataset
    out_dir = osp.join(data, 'maps')
    summary = run_maps('--source', source, '--ann', 'train.json',
                       '--data-root', data, '--out-dir', out_dir)
    out_ann = osp.join(data, f'train_maps-{source}.json')
    assert summary['out_ann'] == out_ann
    src = read_entries(osp.join(data, 'train.json'))
    new = read_entries(out_ann)
    assert [e['img_path'] for e in src] == [e['img_path'] for e in new]
    n_fake = 0
    for old, e in zip(src, new):
        png = osp.join(out_dir, source, e['img_path'] + '.png')
        if e['gt_label'] == 0:
            assert e['mask_path'] is None and not osp.exists(png)
            continue
        n_fake += 1
        assert e['mask_path'] == f'maps/{source}/{e["img_path"]}.png'
        got = read_map(png)
        ref = _reference(source, data, old)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, atol=1 / 255 + 1e-6)
        assert {k: v for k, v in e.items() if k != 'mask_path'} == \
            {k: v for k, v in old.items() if k != 'mask_path'}
    assert n_fake > 0 and summary['written'] == n_fake
    if source == 'pixdiff-thr0.1':
        assert set(np.unique(got)) <= {0., 1.}

    # The configs' loader: the map is the gt_mask; reals get zeros.
    ds = FaceForgeryDataset(
        ann_file=f'train_maps-{source}.json', data_root=data,
        pipeline=[dict(type='LoadFace'), dict(type='LoadManipulationMask')])
    for i in range(len(ds)):
        item = ds[i]
        if item['gt_label'] == 0:
            assert not item['gt_mask'].any()
        else:
            png = osp.join(out_dir, source, new[i]['img_path'] + '.png')
            np.testing.assert_array_equal(item['gt_mask'], read_map(png))
    report = json.load(open(osp.join(out_dir, source, 'report.json')))
    assert report['no_pair'] == [] and report['written'] == n_fake


def test_focus_source(data, tmp_path, tiny_ckpt, run_maps):
    from mmfocus.apis import inference_model, init_model
    out_dir = str(tmp_path / 'maps')
    out_ann = str(tmp_path / 'focus.json')
    run_maps('--source', 'focus', '--config', TINY_CFG, '--checkpoint',
             tiny_ckpt, '--ann', osp.join(data, 'val.json'), '--data-root',
             data, '--out-dir', out_dir, '--out-ann', out_ann,
             '--batch-size', '3')
    model = init_model(TINY_CFG, tiny_ckpt)
    new = read_entries(out_ann)
    n_fake = 0
    for e in new:
        png = osp.join(out_dir, 'focus', e['img_path'] + '.png')
        if e['gt_label'] == 0:
            assert e['mask_path'] is None and not osp.exists(png)
            continue
        n_fake += 1
        # outside the data root: still relative to it (movable together)
        assert not osp.isabs(e['mask_path'])
        assert e['mask_path'].startswith('../')
        assert osp.normpath(osp.join(data, e['mask_path'])) == \
            osp.normpath(png)
        img = osp.join(data, e['img_path'])
        [ds] = inference_model(model, [img])
        h, w = cv2.imread(img).shape[:2]
        ref = F.interpolate(ds.pred_map.float().reshape(1, 1, *ds.pred_map.
                                                        shape[-2:]),
                            size=(h, w), mode='bilinear',
                            align_corners=False)[0, 0].numpy()
        got = read_map(png)
        assert got.shape == (h, w)
        np.testing.assert_allclose(got, ref, atol=1 / 255 + 1e-6)
    assert n_fake > 0


def test_focus_source_amp(data, tmp_path, tiny_ckpt, run_maps):
    """--amp bf16: the written maps stay within the documented tolerance of
    the fp32 ones (mean |diff| < 0.01 and pixel r > 0.99 over all maps;
    docs/en/useful_tools/benchmark.md "Map generation")."""
    maps = {}
    for amp in ('none', 'bf16'):
        out_dir = str(tmp_path / amp)
        run_maps('--source', 'focus', '--config', TINY_CFG, '--checkpoint',
                 tiny_ckpt, '--ann', osp.join(data, 'val.json'),
                 '--data-root', data, '--out-dir', out_dir, '--out-ann',
                 str(tmp_path / f'{amp}.json'), '--amp', amp)
        maps[amp] = [read_map(osp.join(out_dir, 'focus',
                                       e['img_path'] + '.png'))
                     for e in read_entries(str(tmp_path / f'{amp}.json'))
                     if e['gt_label'] == 1]
    a, b = (np.concatenate([m.ravel() for m in maps[k]])
            for k in ('none', 'bf16'))
    assert a.size > 0 and a.std() > 0
    assert np.abs(a - b).mean() < 0.01
    assert np.corrcoef(a, b)[0, 1] > 0.99


def test_resume_skips_existing(data, run_maps):
    out_dir = osp.join(data, 'maps')
    args = ['--source', 'pixdiff', '--ann', 'train.json', '--data-root',
            data, '--out-dir', out_dir]
    first = run_maps(*args)
    pngs = sorted(osp.join(d, f) for d, _, fs in os.walk(
        osp.join(out_dir, 'pixdiff')) for f in fs if f.endswith('.png'))
    assert len(pngs) == first['written'] >= 2
    os.remove(pngs[0])  # as if killed before writing it
    mtimes = {p: os.stat(p).st_mtime_ns for p in pngs[1:]}
    second = run_maps(*args, '--overwrite')
    assert second['written'] == 1
    assert second['skipped_existing'] == len(pngs) - 1
    assert osp.isfile(pngs[0])
    assert {p: os.stat(p).st_mtime_ns for p in pngs[1:]} == mtimes
    assert read_entries(first['out_ann']) == read_entries(second['out_ann'])


def test_unpaired_and_resized_pairs(data, tmp_path, capsys, run_maps):
    entries = read_entries(osp.join(data, 'train.json'))
    fakes = [e for e in entries if e['gt_label'] == 1]
    assert len(fakes) >= 2
    fakes[0]['pair_path'] = None
    # A real twin of another size: resized to the fake with a warning.
    big = cv2.resize(cv2.imread(osp.join(data, fakes[1]['pair_path'])),
                     (80, 80), interpolation=cv2.INTER_LINEAR)
    cv2.imwrite(osp.join(data, 'big.png'), big)
    fakes[1]['pair_path'] = 'big.png'
    ann = osp.join(data, 'edited.json')
    with open(ann, 'w') as f:
        json.dump(dict(metainfo={}, data_list=entries), f)
    out_dir = str(tmp_path / 'maps')
    with pytest.warns(UserWarning, match='big.png'):
        summary = run_maps('--source', 'ssim', '--ann', ann, '--data-root',
                           data, '--out-dir', out_dir)
    assert summary['out_ann'] == osp.join(data, 'edited_maps-ssim.json')
    assert summary['no_pair'] == [fakes[0]['img_path']]
    assert summary['pair_resized'] == [fakes[1]['img_path']]
    assert fakes[0]['img_path'] in capsys.readouterr().out
    report = json.load(open(osp.join(out_dir, 'ssim', 'report.json')))
    assert report['no_pair'] == [fakes[0]['img_path']]
    new = {e['img_path']: e for e in read_entries(summary['out_ann'])}
    assert new[fakes[0]['img_path']]['mask_path'] is None
    assert not osp.exists(osp.join(out_dir, 'ssim',
                                   fakes[0]['img_path'] + '.png'))
    resized = read_map(osp.join(out_dir, 'ssim',
                                 fakes[1]['img_path'] + '.png'))
    from mmfocus.maps import ssim_map
    fake = cv2.imread(osp.join(data, fakes[1]['img_path']))
    twin = cv2.resize(big, fake.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(resized, ssim_map(fake, twin),
                               atol=1 / 255 + 1e-6)
    # --drop-unmapped leaves the unpaired fake out.
    dropped = run_maps('--source', 'ssim', '--ann', ann, '--data-root', data,
                       '--out-dir', out_dir, '--out-ann',
                       str(tmp_path / 'dropped.json'), '--drop-unmapped')
    names = [e['img_path'] for e in read_entries(dropped['out_ann'])]
    assert fakes[0]['img_path'] not in names
    assert len(names) == len(entries) - 1


def test_refusals(data, tmp_path, capsys, maps_tool):
    from mmfocus.utils.cli import cli_main
    out_dir = str(tmp_path / 'maps')
    args = ['--no-progress', '--source', 'pixdiff', '--ann', 'val.json',
            '--data-root', data, '--out-dir', out_dir]
    maps_tool.main(args)
    out_ann = osp.join(data, 'val_maps-pixdiff.json')
    before = open(out_ann).read()
    with pytest.raises(FileExistsError, match='val_maps-pixdiff.json'):
        maps_tool.main(args)
    with pytest.raises(SystemExit) as exc:
        cli_main(maps_tool.main)(args)
    assert exc.value.code == 1
    assert 'error:' in capsys.readouterr().err
    assert open(out_ann).read() == before
    # The input annotation is never the output.
    with pytest.raises(ValueError, match='replace the input'):
        maps_tool.main(args + ['--out-ann', osp.join(data, 'val.json'),
                               '--overwrite'])
    # focus needs a model.
    with pytest.raises(ValueError, match='--config'):
        maps_tool.main(['--no-progress', '--source', 'focus', '--ann',
                        'val.json', '--data-root', data, '--out-dir',
                        out_dir])
    # A missing frame fails with its name.
    entries = read_entries(osp.join(data, 'val.json'))
    fake = next(e for e in entries if e['gt_label'] == 1)
    os.remove(osp.join(data, fake['img_path']))
    with pytest.raises(FileNotFoundError, match=fake['img_path']):
        maps_tool.main(args[:-2] + ['--out-dir', str(tmp_path / 'other'),
                                    '--out-ann', str(tmp_path / 'other.json')])
    assert not osp.exists(tmp_path / 'other.json')
