# Copyright (c) mmfocus contributors.
"""tools/dataset_converters/celebdf.py on a tiny Celeb-DF v2 tree in the
published layout (videos made as in ffpp_fixture.py)."""
import json
import os.path as osp

import numpy as np
import pytest
from ffpp_fixture import ROOT, fake_frames, real_frames, write_video

pytest.importorskip('dlib')

# Celeb-DF name -> fixture video whose frames it gets
REALS = {'Celeb-real/id0_0000': '000', 'Celeb-real/id1_0000': '001',
         'Celeb-real/id2_0001': '002', 'YouTube-real/00000': '003'}
FAKES = {'Celeb-synthesis/id0_id1_0000': '000',
         'Celeb-synthesis/id1_id0_0000': '001',
         'Celeb-synthesis/id2_id0_0001': '002'}
# Celeb-DF's convention: 1 = real, 0 = fake; the last one is not downloaded
TEST_LIST = ['1 Celeb-real/id0_0000.mp4', '0 Celeb-synthesis/id0_id1_0000.mp4',
             '1 YouTube-real/00000.mp4', '0 Celeb-synthesis/id2_id0_0001.mp4',
             '0 Celeb-synthesis/id9_id1_0000.mp4']
KW = dict(frames=4, size=64, progress=False)


@pytest.fixture(scope='module')
def celebdf_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('celebdf')
    for key, vid in REALS.items():
        write_video(str(root / f'{key}.mp4'), real_frames(vid))
    for key, vid in FAKES.items():
        write_video(str(root / f'{key}.mp4'), fake_frames(vid, 'Deepfakes'))
    (root / 'List_of_testing_videos.txt').write_text('\n'.join(TEST_LIST)
                                                     + '\n')
    return str(root)


def _load(out, split):
    with open(osp.join(out, f'{split}.json')) as f:
        return json.load(f)['data_list']


def test_test_list_convention(tmp_path):
    from mmfocus.datasets.converters import load_celebdf_test_list
    path = tmp_path / 'list.txt'
    path.write_text('1 Celeb-real/id0_0000.mp4\n'
                    '0 Celeb-synthesis/id0_id1_0000.mp4\n\n')
    assert load_celebdf_test_list(str(path)) == {
        'Celeb-real/id0_0000': 0, 'Celeb-synthesis/id0_id1_0000': 1}
    for text, msg in (('0 Celeb-real/id0_0000.mp4', 'does not match'),
                      ('1 Other/x.mp4', 'unknown video'),
                      ('real Celeb-real/x.mp4', ':1: expected'),
                      ('1 YouTube-real/1.mp4\n1 YouTube-real/1.mp4',
                       'listed twice')):
        path.write_text(text)
        with pytest.raises(ValueError, match=msg):
            load_celebdf_test_list(str(path))


def test_convert_test_list_then_train(celebdf_root, dlib_det, tmp_path):
    from mmfocus.datasets.converters import convert_celebdf
    out = str(tmp_path / 'celebdf-v2')
    summary = convert_celebdf(celebdf_root, out, face_detector=dlib_det,
                              **KW)
    assert summary['merged'] and summary['processed'] == 4
    assert summary['missing'] == ['Celeb-synthesis/id9_id1_0000']
    assert summary['ignored'] == 3
    assert not osp.exists(osp.join(out, 'train.json'))
    test = _load(out, 'test')
    by_video = {}
    for e in test:
        by_video.setdefault(e['video_id'], []).append(e)
        folder = e['video_id'].split('/')[0]
        assert e['gt_label'] == (folder == 'Celeb-synthesis')
        assert e['method'] == ('real' if folder != 'Celeb-synthesis'
                               else 'Celeb-synthesis')
        assert e['mask_path'] is None
        assert osp.isfile(osp.join(out, e['img_path']))
    assert sorted(by_video) == sorted(
        k[2:-4] for k in TEST_LIST[:4])
    assert all(len(v) == 4 for v in by_video.values())
    for e in by_video['Celeb-synthesis/id0_id1_0000']:
        assert (e['target'], e['source']) == ('id0_0000', 'id1')
        assert e['pair_path'] == (f"frames/Celeb-real/id0_0000/"
                                  f"{e['frame_idx']:04d}.png")
    # its target real is not in the test list: no twin, same indices
    assert [e['pair_path'] for e in by_video[
        'Celeb-synthesis/id2_id0_0001']] == [None] * 4
    with open(osp.join(out, 'report.json')) as f:
        report = json.load(f)
    assert report['missing'] == ['Celeb-synthesis/id9_id1_0000']
    assert set(report['unpaired']) == set()

    # the rest as train: finished test videos are skipped
    more = convert_celebdf(celebdf_root, out, include_train=True,
                           real_oversample=3, face_detector=dlib_det, **KW)
    assert more['skipped'] == 4 and more['processed'] == 3
    train = _load(out, 'train')
    assert {e['video_id'] for e in train} == {
        'Celeb-real/id1_0000', 'Celeb-real/id2_0001',
        'Celeb-synthesis/id1_id0_0000'}
    reals = [e for e in train if e['gt_label'] == 0]
    assert len(reals) == 3 * (3 + 4)  # id1_0000: frame 3 has no face
    assert [e['pair_path'] is not None for e in train
            if e['gt_label'] == 1] == [True] * 3
    test2 = {e['video_id']: e for e in _load(out, 'test')}
    assert test2['Celeb-synthesis/id2_id0_0001']['pair_path'] is not None


def test_base_config_reads_the_output(celebdf_root, dlib_det, tmp_path):
    from mmengine.config import Config

    from mmfocus.registry import DATASETS
    out = str(tmp_path / 'celebdf-v2')
    from mmfocus.datasets.converters import convert_celebdf
    convert_celebdf(celebdf_root, out, face_detector=dlib_det, **KW)
    # composed as the config's comment says, beside the FF++ base
    base = osp.join(ROOT, 'configs', '_base_', 'datasets')
    top = tmp_path / 'cross.py'
    top.write_text(
        f"_base_ = [{osp.join(base, 'ffpp-c40.py')!r}, "
        f"{osp.join(base, 'celebdf-v2.py')!r}]\n"
        "test_dataloader = dict(dataset={{_base_.celebdf_v2_test_dataset}})"
        "\ntest_evaluator = {{_base_.celebdf_v2_test_evaluator}}\n")
    cfg = Config.fromfile(str(top))
    assert cfg.test_dataloader.dataset.data_root == 'data/celebdf-v2'
    assert cfg.train_dataloader.dataset.data_root == 'data/ffpp/c40'
    assert cfg.test_evaluator == [dict(type='ForgeryMetric',
                                       prefix='celebdf-v2')]
    ds_cfg = dict(cfg.test_dataloader.dataset, data_root=out)
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 16
    assert np.bincount(ds.get_gt_labels()).tolist() == [8, 8]
    item = ds[0]
    assert tuple(item['inputs'].shape) == (3, 224, 224)


def test_cli(celebdf_root, tmp_path, capsys, load_tool):
    tool = load_tool('tools/dataset_converters/celebdf.py')
    out = str(tmp_path / 'out')
    assert tool.main([celebdf_root, out, '--frames', '2', '--size', '32',
                      '--no-progress']) == 0
    text = capsys.readouterr().out
    assert 'Celeb-DF v2' in text and '4 converted now' in text
    with open(osp.join(out, 'report.json')) as f:
        no_face = json.load(f)['summary']['no_face_frames']
    assert len(_load(out, 'test')) == 4 * 2 - no_face
    main = tool.cli_main(tool.main)
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / 'nope'), out])
    assert exc.value.code == 1
    assert 'Celeb-DF root not found' in capsys.readouterr().err
