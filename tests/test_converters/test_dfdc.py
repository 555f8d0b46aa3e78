# Copyright (c) mmfocus contributors.
"""tools/dataset_converters/dfdc.py on a tiny DFDC tree in the published
layout (training parts with metadata.json, the public test set), videos
made as in ffpp_fixture.py."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from ffpp_fixture import fake_frames, real_frames, write_video

pytest.importorskip('dlib')

KW = dict(frames=4, size=64, progress=False)
SAMPLED = [1, 3, 5, 7]  # sample_indices(8, 4)
# training parts: video stem -> (fixture frames, metadata entry)
PARTS = {
    0: {'aaaaaaaaaa': ('real', '000', dict(label='REAL', split='train',
                                          original=None)),
        'bbbbbbbbbb': ('fake', '000', dict(label='FAKE', split='train',
                                          original='aaaaaaaaaa.mp4')),
        'cccccccccc': ('real', '002', dict(label='REAL', split='train',
                                          original=None)),
        # listed, not downloaded
        'dddddddddd': (None, None, dict(label='FAKE', split='train',
                                        original='cccccccccc.mp4'))},
    1: {'eeeeeeeeee': ('real', '003', dict(label='REAL', split='train',
                                          original=None)),
        'ffffffffff': ('fake', '003', dict(label='FAKE', split='train',
                                          original='eeeeeeeeee.mp4'))},
}
# test set: stem -> (frames, is_fake)
TEST = {'taaaaaaaaa': ('real', '000', 0),      # one face: kept
        'tbbbbbbbbb': ('fake', '002', 1),      # one face: kept
        'tccccccccc': ('two', '000', 0),       # two faces: left out
        'tddddddddd': ('real', '001', 1),      # frame 3 no face: left out
        'teeeeeeeee': ('corrupt', None, 0)}    # corrupt


def _frames(kind, vid):
    if kind == 'real':
        return real_frames(vid)
    if kind == 'fake':
        return fake_frames(vid, 'Deepfakes')
    # two people side by side in every frame
    return [np.hstack([a, b]) for a, b in zip(real_frames(vid),
                                               real_frames('003'))]


def build_dfdc_tree(root):
    for num, videos in PARTS.items():
        part = osp.join(root, f'dfdc_train_part_{num}')
        os.makedirs(part)
        meta = {}
        for stem, (kind, vid, entry) in videos.items():
            meta[f'{stem}.mp4'] = entry
            if kind is not None:
                write_video(osp.join(part, f'{stem}.mp4'), _frames(kind, vid))
        with open(osp.join(part, 'metadata.json'), 'w') as f:
            json.dump(meta, f)
    test = osp.join(root, 'test')
    os.makedirs(test)
    meta = {}
    for stem, (kind, vid, fake) in TEST.items():
        meta[f'{stem}.mp4'] = dict(is_fake=fake)
        path = osp.join(test, f'{stem}.mp4')
        if kind == 'corrupt':
            with open(path, 'wb') as f:
                f.write(np.random.default_rng(1).integers(
                    0, 256, 3000, dtype=np.uint8).tobytes())
        else:
            write_video(path, _frames(kind, vid))
    with open(osp.join(test, 'metadata.json'), 'w') as f:
        json.dump(meta, f)


@pytest.fixture(scope='module')
def dfdc_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('dfdc'))
    build_dfdc_tree(root)
    return root


@pytest.fixture(scope='module')
def dfdc_test_only(dfdc_root, dlib_det, tmp_path_factory):
    from mmfocus.datasets.converters import convert_dfdc
    out = str(tmp_path_factory.mktemp('dfdc_out'))
    return convert_dfdc(dfdc_root, out, face_detector=dlib_det, **KW), out


def _load(out, split):
    with open(osp.join(out, f'{split}.json')) as f:
        return json.load(f)['data_list']


def _report(out):
    with open(osp.join(out, 'report.json')) as f:
        return json.load(f)


def test_label_files(tmp_path):
    from mmfocus.datasets.converters import (load_dfdc_labels,
                                             load_dfdc_part_metadata)
    (tmp_path / 'labels.csv').write_text('filename,label\na.mp4,1\nb.mp4,0\n')
    assert load_dfdc_labels(str(tmp_path))[0] == {'a': 1, 'b': 0}
    (tmp_path / 'metadata.json').write_text(json.dumps(
        {'c.mp4': {'is_fake': 1}, 'd.mp4': {'label': 'REAL'}}))
    labels, used = load_dfdc_labels(str(tmp_path))  # metadata.json first
    assert labels == {'c': 1, 'd': 0} and used.endswith('metadata.json')
    (tmp_path / 'metadata.json').write_text('{"e.mp4": {"is_fake": 2}}')
    with pytest.raises(ValueError, match='e.mp4: label must be'):
        load_dfdc_labels(str(tmp_path))
    os.remove(tmp_path / 'metadata.json')
    (tmp_path / 'labels.csv').write_text('name,fake\na.mp4,1\n')
    with pytest.raises(ValueError, match='filename,label'):
        load_dfdc_labels(str(tmp_path))
    meta = tmp_path / 'm.json'
    meta.write_text(json.dumps({
        'x.mp4': dict(label='FAKE', split='train', original='y.mp4'),
        'y.mp4': dict(label='REAL', split='train', original=None)}))
    assert load_dfdc_part_metadata(str(meta)) == {
        'x': dict(label=1, original='y'), 'y': dict(label=0, original=None)}
    meta.write_text(json.dumps({'x.avi': dict(label='FAKE')}))
    with pytest.raises(ValueError, match='x.avi'):
        load_dfdc_part_metadata(str(meta))


def test_test_set_single_face_only(dfdc_test_only):
    summary, out = dfdc_test_only
    assert summary['merged'] and summary['processed'] == len(TEST)
    assert summary['corrupt'] == ['test/teeeeeeeee']
    assert not osp.exists(osp.join(out, 'train.json'))
    test = _load(out, 'test')
    assert {e['video_id'] for e in test} == {'test/taaaaaaaaa',
                                             'test/tbbbbbbbbb'}
    assert len(test) == 8
    for e in test:
        assert e['gt_label'] == TEST[e['video_id'][5:]][2]
        assert e['method'] == ('DFDC' if e['gt_label'] else 'real')
        assert e['frame_idx'] in SAMPLED and e['pair_path'] is None
        assert osp.isfile(osp.join(out, e['img_path']))
    report = _report(out)
    # every sampled frame of the two-person video has two faces; the other
    # has none in frame 3: both left out of test.json and listed
    assert report['not_single_face'] == {
        'test/tccccccccc': {str(i): 2 for i in SAMPLED},
        'test/tddddddddd': {'3': 0}}
    assert set(report['corrupt']) == {'test/teeeeeeeee'}
    assert report['summary']['not_single_face_videos'] == 2
    assert report['splits']['test']['excluded'] == 2
    assert report['splits']['test']['videos'] == 3  # incl. the corrupt one


def test_train_val_pairing_then_all_test_videos(dfdc_root, dfdc_test_only,
                                                dlib_det, tmp_path,
                                                read_tree):
    import shutil

    from mmfocus.datasets.converters import convert_dfdc
    _, ref = dfdc_test_only
    out = str(tmp_path / 'dfdc')
    shutil.copytree(ref, out)
    summary = convert_dfdc(dfdc_root, out, include_train=True, val_parts=[1],
                           face_detector=dlib_det, **KW)
    # the test videos are done already
    assert summary['skipped'] == len(TEST) and summary['processed'] == 5
    assert summary['missing'] == ['dfdc_train_part_0/dddddddddd']
    train, val = _load(out, 'train'), _load(out, 'val')
    assert {e['video_id'] for e in train} == {
        f'dfdc_train_part_0/{s}' for s in ('aaaaaaaaaa', 'bbbbbbbbbb',
                                           'cccccccccc')}
    assert {e['video_id'] for e in val} == {
        'dfdc_train_part_1/eeeeeeeeee', 'dfdc_train_part_1/ffffffffff'}
    for e in train + val:
        stem = e['video_id'].split('/')[1]
        part = int(e['video_id'].split('_')[3][0])
        entry = PARTS[part][stem][2]
        assert e['gt_label'] == (entry['label'] == 'FAKE')
        if e['gt_label']:  # the original's crop of the same frame
            orig = entry['original'][:-4]
            assert e['original'] == orig
            assert e['pair_path'] == (f'frames/dfdc_train_part_{part}/{orig}/'
                                      f"{e['frame_idx']:04d}.png")
            assert osp.isfile(osp.join(out, e['pair_path']))
    assert sorted(e['frame_idx'] for e in train if e['gt_label']) == SAMPLED
    assert _report(out)['unpaired'] == {}
    # the multi-face test videos come back without converting anything
    before = read_tree(osp.join(out, 'frames'))
    again = convert_dfdc(dfdc_root, out, include_train=True, val_parts=[1],
                         single_face_test=False, face_detector=dlib_det, **KW)
    assert again['processed'] == 0
    assert {e['video_id'] for e in _load(out, 'test')} == {
        f'test/{s}' for s in TEST if s != 'teeeeeeeee'}
    assert _report(out)['not_single_face'] == {}
    assert read_tree(osp.join(out, 'frames')) == before
    with pytest.raises(ValueError, match='val_parts.*not found'):
        convert_dfdc(dfdc_root, out, include_train=True, val_parts=[7],
                     face_detector=dlib_det, **KW)


def test_shards_and_interruption(dfdc_root, dfdc_test_only, dlib_det,
                                 tmp_path, monkeypatch, read_tree,
                                 kill_at_save):
    from mmfocus.datasets.converters import convert_dfdc
    _, ref = dfdc_test_only
    out = str(tmp_path / 'sharded')
    first = convert_dfdc(dfdc_root, out, shard='0/2', face_detector=dlib_det,
                         **KW)
    assert first['selected'] == 3 and not first['merged']
    assert not osp.exists(osp.join(out, 'test.json'))
    second = convert_dfdc(dfdc_root, out, shard='1/2',
                          face_detector=dlib_det, **KW)
    assert second['selected'] == 2 and second['merged']
    assert read_tree(out) == read_tree(ref)

    killed = str(tmp_path / 'killed')
    kill_at_save(6)  # in the middle of the second video
    with pytest.raises(KeyboardInterrupt):
        convert_dfdc(dfdc_root, killed, face_detector=dlib_det, **KW)
    monkeypatch.undo()
    assert not osp.exists(osp.join(killed, 'test.json'))
    resumed = convert_dfdc(dfdc_root, killed, face_detector=dlib_det, **KW)
    assert resumed['skipped'] == 1 and resumed['processed'] == len(TEST) - 1
    assert read_tree(killed) == read_tree(ref)


def test_cli(dfdc_root, tmp_path, capsys, load_tool):
    tool = load_tool('tools/dataset_converters/dfdc.py')
    out = str(tmp_path / 'out')
    assert tool.main([dfdc_root, out, '--frames', '4', '--size', '32',
                      '--no-progress']) == 0
    text = capsys.readouterr().out
    assert 'DFDC' in text and '5 converted now' in text
    assert '2 video(s) left out of the annotations' in text
    assert len(_load(out, 'test')) == 8
    # the training parts too, part 1 as val: only the new videos converted
    assert tool.main([dfdc_root, out, '--include-train', '--val-parts', '1',
                      '--frames', '4', '--size', '32', '--no-progress']) == 0
    assert '5 converted now, 5 already done' in capsys.readouterr().out
    assert {e['video_id'] for e in _load(out, 'val')} == {
        'dfdc_train_part_1/eeeeeeeeee', 'dfdc_train_part_1/ffffffffff'}
    main = tool.cli_main(tool.main)
    for argv, msg in (([str(tmp_path / 'nope'), out], 'DFDC root not found'),
                      ([dfdc_root, out, '--val-parts', '1'],
                       'val_parts needs include_train')):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 1
        assert msg in capsys.readouterr().err
