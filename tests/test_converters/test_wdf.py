# Copyright (c) mmfocus contributors.
"""tools/dataset_converters/wdf.py on a tiny WildDeepfake tree in the
published layout ({real,fake}_{train,test} folders of extracted per-video
archives holding face-sequence folders), frames made as in ffpp_fixture.py
and written with OpenCV."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from ffpp_fixture import fake_frames, real_frames

pytest.importorskip('dlib')

KW = dict(frames=4, size=64, progress=False)
SAMPLED = [1, 3, 5, 7]
# sequence folder (under the root) -> fixture frames
SEQS = {'real_test/1/real/0': ('real', '000'),
        'real_test/1/real/1': ('real', '001'),   # frame 3: no face
        'fake_test/2/fake/0': ('fake', '002'),
        'fake_test/2/fake/1': ('corrupt', None),
        'real_train/4/real/0': ('real', '003'),
        'fake_train/5/fake/0': ('fake', '003')}


def _frames(kind, vid):
    return real_frames(vid) if kind == 'real' else fake_frames(
        vid, 'Deepfakes')


def frame_name(t):
    # 0, 5, 10, ... 35: natural order differs from the lexicographic one
    return f'{5 * t}.png'


@pytest.fixture(scope='module')
def wdf_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('wdf')
    for rel, (kind, vid) in SEQS.items():
        os.makedirs(root / rel)
        for t in range(8):
            path = str(root / rel / frame_name(t))
            if kind == 'corrupt':
                with open(path, 'wb') as f:
                    f.write(b'\x89PNG\r\n' + bytes(40))
            else:
                assert cv2.imwrite(path, _frames(kind, vid)[t])
    (root / 'fake_test' / '3.tar.gz').write_bytes(b'\x1f\x8b' + bytes(20))
    (root / 'fake_test' / '2.tar.gz').write_bytes(b'\x1f\x8b' + bytes(20))
    return str(root)


def _load(out, split):
    with open(osp.join(out, f'{split}.json')) as f:
        return json.load(f)['data_list']


def test_sequences_in_natural_order(wdf_root):
    from mmfocus.datasets.converters import (find_wdf_sequences,
                                             list_frame_files,
                                             probe_frame_count, read_frames)
    seqs, archives = find_wdf_sequences(osp.join(wdf_root, 'fake_test'))
    assert seqs == ['2/fake/0', '2/fake/1'] and archives == ['3.tar.gz']
    folder = osp.join(wdf_root, 'real_test', '1', 'real', '0')
    assert [osp.basename(p) for p in list_frame_files(folder)] == [
        frame_name(t) for t in range(8)]
    assert probe_frame_count(folder) == 8
    frames, bad = read_frames(folder, [6, 2, 9])
    assert bad == [9]
    for t in (2, 6):
        assert np.array_equal(frames[t], real_frames('000')[t])


def test_detect_labels_report_and_resume(wdf_root, dlib_det, tmp_path,
                                         monkeypatch, read_tree,
                                         kill_at_save):
    from mmfocus.datasets.converters import convert_wdf
    ref = str(tmp_path / 'ref')
    summary = convert_wdf(wdf_root, ref, face_detector=dlib_det, **KW)
    assert summary['merged'] and summary['processed'] == 4
    assert summary['ignored'] == 2
    assert summary['missing'] == ['fake_test/3.tar.gz (not extracted)']
    assert summary['corrupt'] == ['fake_test/2/fake/1']
    test = _load(ref, 'test')
    assert len(test) == 4 + 3 + 4  # sequence 1/real/1 has no face in 3
    for e in test:
        kind = SEQS[e['video_id']][0]
        assert e['gt_label'] == (kind == 'fake')
        assert e['method'] == ('WildDeepfake' if e['gt_label'] else 'real')
        assert e['frame_idx'] in SAMPLED
        assert len(e['landmarks']) == 68
    with open(osp.join(ref, 'report.json')) as f:
        report = json.load(f)
    assert report['no_face'] == {'real_test/1/real/1': [3]}
    assert list(report['corrupt']) == ['fake_test/2/fake/1']
    assert 'no decodable' in report['corrupt']['fake_test/2/fake/1'] or \
        'no sampled frame' in report['corrupt']['fake_test/2/fake/1']

    out = str(tmp_path / 'killed')
    kill_at_save(6)
    with pytest.raises(KeyboardInterrupt):
        convert_wdf(wdf_root, out, face_detector=dlib_det, **KW)
    monkeypatch.undo()
    resumed = convert_wdf(wdf_root, out, face_detector=dlib_det, **KW)
    assert resumed['skipped'] >= 1 and resumed['merged']
    assert read_tree(out) == read_tree(ref)
    # a changed frame makes its sequence be redone, the others are kept
    seq = osp.join(wdf_root, 'real_test', '1', 'real', '0')
    os.utime(osp.join(seq, frame_name(5)), ns=(1, 10**18))
    again = convert_wdf(wdf_root, out, face_detector=dlib_det, **KW)
    assert again['processed'] == 1 and again['skipped'] == 3


def test_given_faces_crop_the_whole_frame(wdf_root, tmp_path):
    from mmfocus.datasets.converters import convert_wdf
    out = str(tmp_path / 'given')
    summary = convert_wdf(wdf_root, out, faces='given', include_train=True,
                          shard='0/2', **KW)
    assert not summary['merged']
    summary = convert_wdf(wdf_root, out, faces='given', include_train=True,
                          shard='1/2', **KW)
    assert summary['merged']
    with open(osp.join(out, 'settings.json')) as f:
        settings = json.load(f)
    assert settings['detector'] == dict(type='WholeFrameDetector')
    assert settings['margin'] == 1.0
    test, train = _load(out, 'test'), _load(out, 'train')
    # every decodable frame is a face, the blank frame 3 too
    assert len(test) == 3 * 4 and len(train) == 2 * 4
    for e in test + train:
        assert e['landmarks'] is None
        kind, vid = SEQS[e['video_id']]
        crop = cv2.imread(osp.join(out, e['img_path'])).astype(np.float32)
        frames = [cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA)
                  for f in _frames(kind, vid)]
        diffs = [np.abs(crop - f).mean() for f in frames]
        # the crop is the frame of that index, in natural file order
        assert int(np.argmin(diffs)) == e['frame_idx'], diffs
        others = [d for t, d in enumerate(diffs) if t != e['frame_idx']]
        # measured: own frame <= 4.7 (resampling), other frames >= 15
        assert diffs[e['frame_idx']] < 8 and min(others) > 12, diffs
    with pytest.raises(ValueError, match='other settings'):
        convert_wdf(wdf_root, out, include_train=True, **KW)


def test_cli(wdf_root, tmp_path, capsys, load_tool):
    tool = load_tool('tools/dataset_converters/wdf.py')
    out = str(tmp_path / 'out')
    assert tool.main([wdf_root, out, '--faces', 'given', '--frames', '2',
                      '--size', '32', '--no-progress']) == 0
    text = capsys.readouterr().out
    assert 'WildDeepfake' in text and '4 converted now' in text
    assert 'not extracted' in text
    assert len(_load(out, 'test')) == 3 * 2
    main = tool.cli_main(tool.main)
    for argv, msg in (([str(tmp_path / 'nope'), out],
                       'WildDeepfake root not found'),
                      ([wdf_root, out, '--faces', 'given', '--detector',
                        'retinaface'], '--faces given uses no face detector')):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 1
        assert msg in capsys.readouterr().err
