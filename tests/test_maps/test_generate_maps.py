"""tools/generate_maps.py on the tiny demo data: every map source against a
direct computation (skimage SSIM through ``ssim_map``, numpy differences,
``inference_model`` + torch bilinear resizing), reals without maps, the new
annotation through FaceForgeryDataset, resume, unpaired fakes, refusals."""
import importlib.util
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')


def _tool():
    spec = importlib.util.spec_from_file_location(
        'generate_maps_tool', osp.join(ROOT, 'tools', 'generate_maps.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TOOL = _tool()


@pytest.fixture
def data(tiny_demo_data, tmp_path):
    """A private copy of the tiny demo data (annotations are written into
    the data root)."""
    root = str(tmp_path / 'faces')
    shutil.copytree(tiny_demo_data, root)
    return root


@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    from mmfocus.apis import init_model
    torch.manual_seed(0)
    model = init_model(TINY_CFG)
    path = str(tmp_path_factory.mktemp('ckpt') / 'focus_tiny.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def _entries(path):
    with open(path) as f:
        return json.load(f)['data_list']


def _read_map(path):
    m = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert m is not None and m.dtype == np.uint8 and m.ndim == 2, path
    return m.astype(np.float32) / 255.


def _reference(source, root, entry):
    from mmfocus.maps import pixel_diff_map, ssim_map
    fake = cv2.imread(osp.join(root, entry['img_path']))
    real = cv2.imread(osp.join(root, entry['pair_path']))
    if source == 'ssim':
        return ssim_map(fake, real)
    if source == 'pixdiff':
        return pixel_diff_map(fake, real)
    return pixel_diff_map(fake, real, thr=0.1)


def _run(*argv):
    return TOOL.main(['--no-progress', *argv])


@pytest.mark.parametrize('source', ['ssim', 'pixdiff', 'pixdiff-thr0.1'])
def test_comparison_sources(data, tmp_path, source):
    from mmfocus.datasets import FaceForgeryDataset
    out_dir = osp.join(data, 'maps')
    summary = _run('--source', source, '--ann', 'train.json', '--data-root',
                   data, '--out-dir', out_dir)
    out_ann = osp.join(data, f'train_maps-{source}.json')
    assert summary['out_ann'] == out_ann
    src, new = _entries(osp.join(data, 'train.json')), _entries(out_ann)
    assert [e['img_path'] for e in src] == [e['img_path'] for e in new]
    n_fake = 0
    for old, e in zip(src, new):
        png = osp.join(out_dir, source, e['img_path'] + '.png')
        if e['gt_label'] == 0:
            assert e['mask_path'] is None and not osp.exists(png)
            continue
        n_fake += 1
        assert e['mask_path'] == f'maps/{source}/{e["img_path"]}.png'
        got = _read_map(png)
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
            np.testing.assert_array_equal(item['gt_mask'], _read_map(png))
    report = json.load(open(osp.join(out_dir, source, 'report.json')))
    assert report['no_pair'] == [] and report['written'] == n_fake


def test_focus_source(data, tmp_path, tiny_ckpt):
    from mmfocus.apis import inference_model, init_model
    out_dir = str(tmp_path / 'maps')
    out_ann = str(tmp_path / 'focus.json')
    _run('--source', 'focus', '--config', TINY_CFG, '--checkpoint',
         tiny_ckpt, '--ann', osp.join(data, 'val.json'), '--data-root',
         data, '--out-dir', out_dir, '--out-ann', out_ann,
         '--batch-size', '3')
    model = init_model(TINY_CFG, tiny_ckpt)
    new = _entries(out_ann)
    n_fake = 0
    for e in new:
        png = osp.join(out_dir, 'focus', e['img_path'] + '.png')
        if e['gt_label'] == 0:
            assert e['mask_path'] is None and not osp.exists(png)
            continue
        n_fake += 1
        assert osp.abspath(e['mask_path']) == osp.abspath(png)  # outside
        img = osp.join(data, e['img_path'])
        [ds] = inference_model(model, [img])
        h, w = cv2.imread(img).shape[:2]
        ref = F.interpolate(ds.pred_map.float().reshape(1, 1, *ds.pred_map.
                                                        shape[-2:]),
                            size=(h, w), mode='bilinear',
                            align_corners=False)[0, 0].numpy()
        got = _read_map(png)
        assert got.shape == (h, w)
        np.testing.assert_allclose(got, ref, atol=1 / 255 + 1e-6)
    assert n_fake > 0


def test_resume_skips_existing(data):
    out_dir = osp.join(data, 'maps')
    args = ['--source', 'pixdiff', '--ann', 'train.json', '--data-root',
            data, '--out-dir', out_dir]
    first = _run(*args)
    pngs = sorted(osp.join(d, f) for d, _, fs in os.walk(
        osp.join(out_dir, 'pixdiff')) for f in fs if f.endswith('.png'))
    assert len(pngs) == first['written'] >= 2
    os.remove(pngs[0])  # as if killed before writing it
    mtimes = {p: os.stat(p).st_mtime_ns for p in pngs[1:]}
    second = _run(*args, '--overwrite')
    assert second['written'] == 1
    assert second['skipped_existing'] == len(pngs) - 1
    assert osp.isfile(pngs[0])
    assert {p: os.stat(p).st_mtime_ns for p in pngs[1:]} == mtimes
    assert _entries(first['out_ann']) == _entries(second['out_ann'])


def test_unpaired_and_resized_pairs(data, tmp_path, capsys):
    entries = _entries(osp.join(data, 'train.json'))
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
        summary = _run('--source', 'ssim', '--ann', ann, '--data-root', data,
                       '--out-dir', out_dir)
    assert summary['out_ann'] == osp.join(data, 'edited_maps-ssim.json')
    assert summary['no_pair'] == [fakes[0]['img_path']]
    assert summary['pair_resized'] == [fakes[1]['img_path']]
    assert fakes[0]['img_path'] in capsys.readouterr().out
    report = json.load(open(osp.join(out_dir, 'ssim', 'report.json')))
    assert report['no_pair'] == [fakes[0]['img_path']]
    new = {e['img_path']: e for e in _entries(summary['out_ann'])}
    assert new[fakes[0]['img_path']]['mask_path'] is None
    assert not osp.exists(osp.join(out_dir, 'ssim',
                                   fakes[0]['img_path'] + '.png'))
    resized = _read_map(osp.join(out_dir, 'ssim',
                                 fakes[1]['img_path'] + '.png'))
    from mmfocus.maps import ssim_map
    fake = cv2.imread(osp.join(data, fakes[1]['img_path']))
    twin = cv2.resize(big, fake.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(resized, ssim_map(fake, twin),
                               atol=1 / 255 + 1e-6)
    # --drop-unmapped leaves the unpaired fake out.
    dropped = _run('--source', 'ssim', '--ann', ann, '--data-root', data,
                   '--out-dir', out_dir, '--out-ann',
                   str(tmp_path / 'dropped.json'), '--drop-unmapped')
    names = [e['img_path'] for e in _entries(dropped['out_ann'])]
    assert fakes[0]['img_path'] not in names
    assert len(names) == len(entries) - 1


def test_refusals(data, tmp_path, capsys):
    from mmfocus.utils.cli import cli_main
    out_dir = str(tmp_path / 'maps')
    args = ['--no-progress', '--source', 'pixdiff', '--ann', 'val.json',
            '--data-root', data, '--out-dir', out_dir]
    TOOL.main(args)
    out_ann = osp.join(data, 'val_maps-pixdiff.json')
    before = open(out_ann).read()
    with pytest.raises(FileExistsError, match='val_maps-pixdiff.json'):
        TOOL.main(args)
    with pytest.raises(SystemExit) as exc:
        cli_main(TOOL.main)(args)
    assert exc.value.code == 1
    assert 'error:' in capsys.readouterr().err
    assert open(out_ann).read() == before
    # The input annotation is never the output.
    with pytest.raises(ValueError, match='replace the input'):
        TOOL.main(args + ['--out-ann', osp.join(data, 'val.json'),
                          '--overwrite'])
    # focus needs a model.
    with pytest.raises(ValueError, match='--config'):
        TOOL.main(['--no-progress', '--source', 'focus', '--ann', 'val.json',
                   '--data-root', data, '--out-dir', out_dir])
    # A missing frame fails with its name.
    entries = _entries(osp.join(data, 'val.json'))
    fake = next(e for e in entries if e['gt_label'] == 1)
    os.remove(osp.join(data, fake['img_path']))
    with pytest.raises(FileNotFoundError, match=fake['img_path']):
        TOOL.main(args[:-2] + ['--out-dir', str(tmp_path / 'other'),
                               '--out-ann', str(tmp_path / 'other.json')])
    assert not osp.exists(tmp_path / 'other.json')
