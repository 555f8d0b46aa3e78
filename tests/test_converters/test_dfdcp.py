# Copyright (c) mmfocus contributors.
"""tools/dataset_converters/dfdcp.py on a tiny DFDC preview tree in the
published layout (dataset.json + original_videos / method_A / method_B),
videos made as in ffpp_fixture.py."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from ffpp_fixture import ROOT, fake_frames, real_frames, write_video

pytest.importorskip('dlib')

KW = dict(frames=4, size=64, progress=False)
# relative path -> (fixture frames or None (missing) / 'corrupt', metadata)
INDEX = {
    'original_videos/100/100_A/100_A_000.mp4': (
        ('real', '000'), dict(label='real', set='test', target_id='100')),
    'method_A/100/100_A/200_100_A_000.mp4': (
        ('Deepfakes', '000'), dict(label='fake', set='test',
                                   target_id='100', swapped_id='200')),
    'method_B/100/100_A/300_100_A_000.mp4': (
        ('Face2Face', '000'), dict(label='fake', set='test',
                                   target_id='100', swapped_id='300')),
    'original_videos/300/300_C/300_C_000.mp4': (
        'corrupt', dict(label='real', set='test', target_id='300')),
    'method_B/300/300_C/100_300_C_000.mp4': (
        None, dict(label='fake', set='test', target_id='300',
                   swapped_id='100')),
    'original_videos/200/200_B/200_B_000.mp4': (
        ('real', '002'), dict(label='real', set='train', target_id='200')),
    'method_A/200/200_B/100_200_B_000.mp4': (
        ('Deepfakes', '002'), dict(label='fake', set='train',
                                   target_id='200', swapped_id='100')),
}


@pytest.fixture(scope='module')
def dfdcp_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('dfdc_preview_set'))
    for rel, (src, _) in INDEX.items():
        path = osp.join(root, rel)
        if src is None:
            continue
        if src == 'corrupt':
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(b'\x00\x00\x00\x18ftypmp42' + bytes(500))
            continue
        kind, vid = src
        write_video(path, real_frames(vid) if kind == 'real'
                    else fake_frames(vid, kind))
    with open(osp.join(root, 'dataset.json'), 'w') as f:
        json.dump({k: v for k, (_, v) in INDEX.items()}, f)
    return root


def _load(out, split):
    with open(osp.join(out, f'{split}.json')) as f:
        return json.load(f)['data_list']


def test_index_checks(tmp_path):
    from mmfocus.datasets.converters import load_dfdcp_index
    path = tmp_path / 'dataset.json'
    for index, msg in (
            ({'method_A/1/1_A/x.mp4': dict(label='real', set='test')},
             'does not match its folder'),
            ({'method_A/1/1_A/x.mp4': dict(label='fake', set='dev')},
             'set must be'),
            ({'../x.mp4': dict(label='fake', set='test')},
             'relative video path'),
            ({'original_videos/1/x.mp4': dict(label='REAL?', set='test')},
             'label must be')):
        path.write_text(json.dumps(index))
        with pytest.raises(ValueError, match=msg):
            load_dfdcp_index(str(path))
    path.write_text(json.dumps({'method_B/1/1_A/x.mp4': dict(
        label='fake', set='train', target_id='1', swapped_id='2',
        other='dropped')}))
    assert load_dfdcp_index(str(path)) == {'method_B/1/1_A/x.mp4': dict(
        label=1, split='train', extra=dict(target_id='1', swapped_id='2'))}


def test_convert_test_set_then_train(dfdcp_root, dlib_det, tmp_path,
                                     read_tree):
    from mmfocus.datasets.converters import convert_dfdcp
    out = str(tmp_path / 'dfdcp')
    summary = convert_dfdcp(dfdcp_root, out, face_detector=dlib_det, **KW)
    assert summary['merged'] and summary['processed'] == 4
    assert summary['ignored'] == 2
    assert summary['missing'] == ['method_B/300/300_C/100_300_C_000']
    assert summary['corrupt'] == ['original_videos/300/300_C/300_C_000']
    assert not osp.exists(osp.join(out, 'train.json'))
    test = _load(out, 'test')
    assert len(test) == 3 * 4
    for e in test:
        rel = e['video_id'] + '.mp4'
        meta = INDEX[rel][1]
        assert e['gt_label'] == (meta['label'] == 'fake')
        assert e['method'] == ('real' if e['gt_label'] == 0
                               else rel.split('/')[0])
        assert e['target_id'] == meta['target_id']
        assert e.get('swapped_id') == meta.get('swapped_id')
        assert e['pair_path'] is None and e['mask_path'] is None
        assert e['img_path'] == (f"frames/{e['video_id']}/"
                                 f"{e['frame_idx']:04d}.png")
    with open(osp.join(out, 'report.json')) as f:
        report = json.load(f)
    assert list(report['corrupt']) == ['original_videos/300/300_C/300_C_000']
    assert report['missing'] == ['method_B/300/300_C/100_300_C_000']

    before = read_tree(osp.join(out, 'records'))
    more = convert_dfdcp(dfdcp_root, out, include_train=True,
                         face_detector=dlib_det, **KW)
    assert more['skipped'] == 4 and more['processed'] == 2
    assert {e['video_id'] for e in _load(out, 'train')} == {
        'original_videos/200/200_B/200_B_000',
        'method_A/200/200_B/100_200_B_000'}
    after = read_tree(osp.join(out, 'records'))
    assert {k: after[k] for k in before} == before  # not redone


def test_shards_equal_one_run(dfdcp_root, dlib_det, tmp_path, read_tree):
    from mmfocus.datasets.converters import convert_dfdcp
    full, parts = str(tmp_path / 'full'), str(tmp_path / 'parts')
    convert_dfdcp(dfdcp_root, full, face_detector=dlib_det, **KW)
    for i in range(3):
        s = convert_dfdcp(dfdcp_root, parts, shard=f'{i}/3',
                          face_detector=dlib_det, **KW)
        assert s['merged'] == (i == 2)
    assert read_tree(parts) == read_tree(full)


def test_cli_and_config(dfdcp_root, tmp_path, capsys, load_tool):
    from mmengine.config import Config

    from mmfocus.registry import DATASETS
    tool = load_tool('tools/dataset_converters/dfdcp.py')
    out = str(tmp_path / 'out')
    assert tool.main([dfdcp_root, out, '--frames', '4', '--size', '32',
                      '--no-progress']) == 0
    assert '4 converted now' in capsys.readouterr().out
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets',
                                   'dfdcp.py'))
    assert cfg.dfdcp_test_dataset.data_root == 'data/dfdcp'
    assert cfg.dfdcp_test_evaluator == [dict(type='ForgeryMetric',
                                             prefix='dfdcp')]
    ds = DATASETS.build(dict(cfg.dfdcp_test_dataset, data_root=out))
    assert len(ds) == 12
    assert np.bincount(ds.get_gt_labels()).tolist() == [4, 8]
    main = tool.cli_main(tool.main)
    os.remove(osp.join(dfdcp_root, 'dataset.json'))
    try:
        with pytest.raises(SystemExit):
            main([dfdcp_root, out])
        assert 'dataset.json' in capsys.readouterr().err
    finally:
        with open(osp.join(dfdcp_root, 'dataset.json'), 'w') as f:
            json.dump({k: v for k, (_, v) in INDEX.items()}, f)
