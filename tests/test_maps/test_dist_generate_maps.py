"""tools/dist_generate_maps.sh with 2 CPU processes (gloo): the frames are
split by rank, every map is written once, rank 0 writes the annotation and
the merged report; the result equals a one-process run; resume works."""
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
from maps_fixtures import VIT_CFG

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOL = 1 / 255 + 1e-4


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHON'] = sys.executable
    env['PORT'] = str(29700 + os.getpid() % 1000)
    return env


def _dist(*args):
    proc = subprocess.run(
        ['bash', 'tools/dist_generate_maps.sh', '2', '--no-progress', *args],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def _pngs(root):
    return sorted(osp.relpath(osp.join(d, f), root)
                  for d, _, fs in os.walk(root) for f in fs
                  if f.endswith('.png'))


def test_two_processes_split_frames_and_match_one(tiny_demo_data, tmp_path,
                                                  read_tree, run_maps):
    # One fake without a pair: reported, no map, in both runs.
    with open(osp.join(tiny_demo_data, 'train.json')) as f:
        ann = json.load(f)
    lone = next(e for e in ann['data_list'] if e['gt_label'] == 1)
    lone['pair_path'] = None
    edited = str(tmp_path / 'edited.json')
    with open(edited, 'w') as f:
        json.dump(ann, f)
    n_fake = sum(e['gt_label'] == 1 for e in ann['data_list']) - 1

    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    # the same tool in this process (one process, no launcher)
    run_maps('--source', 'ssim', '--ann', edited, '--data-root',
             tiny_demo_data, '--out-dir', one, '--out-ann',
             str(tmp_path / 'one.json'))
    proc = _dist('--source', 'ssim', '--ann', edited, '--data-root',
                 tiny_demo_data, '--out-dir', two, '--out-ann',
                 str(tmp_path / 'two.json'))
    assert 'by 2 processes' in proc.stdout
    assert proc.stdout.count('report:') == 1  # rank 0 only
    report = json.load(open(osp.join(two, 'ssim', 'report.json')))
    assert report['world_size'] == 2
    assert report['written'] == n_fake
    assert sorted(report['written_by_rank']) == [n_fake // 2,
                                                 n_fake - n_fake // 2]
    assert report['no_pair'] == [lone['img_path']]
    # Byte-identical maps and the same annotation (up to the maps' dir).
    a, b = read_tree(osp.join(one, 'ssim')), read_tree(osp.join(two, 'ssim'))
    a.pop('report.json'), b.pop('report.json')
    assert a == b and len(a) == n_fake
    ea = json.load(open(tmp_path / 'one.json'))['data_list']
    eb = json.load(open(tmp_path / 'two.json'))['data_list']
    for x, y in zip(ea, eb):
        if x['mask_path'] is None:
            assert y['mask_path'] is None
        else:
            # relative to the data root (as the converters write them)
            assert osp.relpath(osp.join(tiny_demo_data, x['mask_path']),
                               one) == \
                osp.relpath(osp.join(tiny_demo_data, y['mask_path']), two)
        assert {k: v for k, v in x.items() if k != 'mask_path'} == \
            {k: v for k, v in y.items() if k != 'mask_path'}

    # Resume under the launcher: only the deleted map is recomputed.
    victim = osp.join(two, 'ssim', _pngs(osp.join(two, 'ssim'))[-1])
    os.remove(victim)
    _dist('--source', 'ssim', '--ann', edited, '--data-root',
          tiny_demo_data, '--out-dir', two, '--out-ann',
          str(tmp_path / 'two.json'), '--overwrite')
    report = json.load(open(osp.join(two, 'ssim', 'report.json')))
    assert report['written'] == 1
    assert report['skipped_existing'] == n_fake - 1
    again = read_tree(osp.join(two, 'ssim'))
    again.pop('report.json')
    assert again == b


def test_two_processes_model_source(tiny_demo_data, tmp_path, vit_ckpt,
                                    run_maps):
    one, two = str(tmp_path / 'one'), str(tmp_path / 'two')
    args = [VIT_CFG, vit_ckpt, '--source', 'gradcam', '--ann', 'val.json',
            '--data-root', tiny_demo_data, '--batch-size', '2']
    run_maps(*args, '--out-dir', one, '--out-ann', str(tmp_path / '1.json'))
    _dist(*args, '--out-dir', two, '--out-ann', str(tmp_path / '2.json'))
    names = _pngs(osp.join(one, 'gradcam'))
    assert names and names == _pngs(osp.join(two, 'gradcam'))
    for n in names:
        x = cv2.imread(osp.join(one, 'gradcam', n), cv2.IMREAD_UNCHANGED)
        y = cv2.imread(osp.join(two, 'gradcam', n), cv2.IMREAD_UNCHANGED)
        np.testing.assert_allclose(x / 255., y / 255., atol=TOL)
    report = json.load(open(osp.join(two, 'gradcam', 'report.json')))
    assert report['world_size'] == 2 and min(report['written_by_rank']) > 0
    ann = json.load(open(tmp_path / '2.json'))['data_list']
    assert sum(e['mask_path'] is not None for e in ann) == len(names)
