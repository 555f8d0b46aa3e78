"""The demo clips: consecutive frames of one moving face, fakes blended per
frame with exact masks, deterministic, trainable by the LTTD demo config."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmfocus.datasets.annotation import load_annotation
from mmfocus.faces.demo_clips import build_demo_clips, clip_motion
from mmfocus.registry import DATASETS


def test_motion_is_smooth_and_small():
    mats = clip_motion(np.random.default_rng(0), 8, 64)
    assert mats.shape == (8, 2, 3)
    # the translation moves at most 3 % of the side between the extremes
    assert np.abs(mats[:, :, 2] - mats[0, :, 2]).max() < 0.03 * 64 * 2 + 3


@pytest.fixture(scope='module')
def clips(tiny_demo_data, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('clips') / 'c')
    build_demo_clips(tiny_demo_data, out, clip_len=4, size=32,
                     verbose=False)
    return out


def test_clip_entries_and_exact_masks(clips, tiny_demo_data):
    ann = load_annotation(osp.join(clips, 'train.json'))
    reals = [e for e in ann['data_list'] if e['gt_label'] == 0]
    fakes = [e for e in ann['data_list'] if e['gt_label'] == 1]
    faces = [e for e in load_annotation(osp.join(
        tiny_demo_data, 'train.json'))['data_list'] if e['gt_label'] == 0]
    assert len(reals) == len(fakes) == len(faces)
    fake = fakes[0]
    assert fake['frame_indices'] == [0, 1, 2, 3]
    assert len(fake['clip_paths']) == len(fake['clip_mask_paths']) == 4
    assert fake['clip_pair_paths'] == reals[0]['clip_paths']
    frames = [cv2.imread(osp.join(clips, p)) for p in fake['clip_paths']]
    assert len({f.tobytes() for f in frames}) == 4  # the face moves
    # every fake frame is its real frame blended where its mask is > 0
    for t in range(4):
        real = cv2.imread(osp.join(clips, fake['clip_pair_paths'][t]))
        m = cv2.imread(osp.join(clips, fake['clip_mask_paths'][t]), 0)
        fk = cv2.imread(osp.join(clips, fake['clip_paths'][t]))
        outside = m == 0
        assert np.abs(fk[outside].astype(int) -
                      real[outside].astype(int)).max() <= 2
        assert m.max() > 0 and np.abs(fk.astype(int) - real).max() > 5


def test_deterministic_and_no_silent_overwrite(clips, tiny_demo_data,
                                               tmp_path):
    with pytest.raises(FileExistsError):
        build_demo_clips(tiny_demo_data, clips, clip_len=4, size=32,
                         verbose=False)
    again = str(tmp_path / 'again')
    build_demo_clips(tiny_demo_data, again, clip_len=4, size=32,
                     verbose=False)
    first = sorted(os.listdir(osp.join(clips, 'real')))[0]
    for name in ('train.json', f'real/{first}/000.png'):
        with open(osp.join(clips, name), 'rb') as a, \
                open(osp.join(again, name), 'rb') as b:
            assert a.read() == b.read()


def test_demo_config_reads_the_clips(clips):
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, 'configs/lttd/lttd-tiny_demo-clips.py'))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.update(data_root=clips, clip_len=4)
    ds = DATASETS.build(ds_cfg)
    item = ds[0]
    assert item['inputs'].shape == (4, 3, 64, 64)


def test_map_sources_serve_clip_annotations(clips, tmp_path):
    from mmfocus.maps.generate import (comparison_map, generate_maps,
                                       map_to_uint8)
    out = generate_maps('train.json', clips, 'pixdiff', str(tmp_path / 'm'),
                        out_ann=str(tmp_path / 'train_maps.json'),
                        progress=False, log=lambda *_: None)
    ann = load_annotation(out['out_ann'])
    for e in ann['data_list']:
        if e['gt_label'] == 0:
            assert e['clip_mask_paths'] is None
            continue
        assert len(e['clip_mask_paths']) == len(e['clip_paths']) == 4
        t = 2
        got = cv2.imread(osp.join(clips, e['clip_mask_paths'][t]), 0)
        fake = cv2.imread(osp.join(clips, e['clip_paths'][t]))
        real = cv2.imread(osp.join(clips, e['clip_pair_paths'][t]))
        want = map_to_uint8(comparison_map('pixdiff', fake, real))
        assert np.array_equal(got, want)
    assert out['written'] == 4 * sum(e['gt_label'] for e in ann['data_list'])


def test_build_demo_clips_tool(run_cli, tiny_demo_data, tmp_path):
    # tools/misc/build_demo_clips.py: the options, and a clear one-line
    # error (no traceback) for an existing output without --force
    out = str(tmp_path / 'clips')
    args = ['--faces', tiny_demo_data, '--out', out, '--clip-len', '3',
            '--size', '16', '--seed', '1']
    rc, stdout, _ = run_cli('tools/misc/build_demo_clips.py', args)
    assert rc in (0, None) and 'train:' in stdout
    assert len(load_annotation(osp.join(out, 'val.json'))['data_list'][0][
        'clip_paths']) == 3
    rc, _, err = run_cli('tools/misc/build_demo_clips.py', args)
    assert rc not in (0, None) and 'output folder exists' in err
    rc, _, _ = run_cli('tools/misc/build_demo_clips.py', args + ['--force'])
    assert rc in (0, None)
