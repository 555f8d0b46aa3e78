# Copyright (c) mmfocus contributors.
"""Clip mode of the dataset converters (``--clips K --clip-len T``) on the
tiny FaceForensics++ tree (see ffpp_fixture.py) and a few hand-made videos:
consecutive frames of one face track, one fixed crop per clip, pairs aligned
with the real twin's clip, every clip that cannot be made reported."""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from ffpp_fixture import (CHIPS, CONVERT_KW, IDENTITIES, METHODS, NO_FACE,
                          fake_frames, real_frames, region_mask, write_video)

pytest.importorskip('dlib')

CLIPS, CLIP_LEN = 2, 3
CLIP_KW = dict(CONVERT_KW, clips=CLIPS, clip_len=CLIP_LEN)
STARTS = [1, 4]  # clip_starts(8, 2, 3): sample_indices(6, 2)
TOTAL_VIDEOS = 14  # as in test_ffpp.py
SIZE = CONVERT_KW['size']


def _load(out_dir, split):
    with open(osp.join(out_dir, f'{split}.json')) as f:
        return json.load(f)


def _entries(out_dir, splits=('train', 'test')):
    return [e for s in splits for e in _load(out_dir, s)['data_list']]


def _report(out_dir):
    with open(osp.join(out_dir, 'report.json')) as f:
        return json.load(f)


def _record(out_dir, key):
    with open(osp.join(out_dir, 'records', f'{key}.json')) as f:
        return json.load(f)


def _convert(ffpp_tree, out, **kw):
    from mmfocus.datasets.converters import convert_ffpp
    root, split_dir = ffpp_tree
    args = dict(CLIP_KW, split_dir=split_dir)
    args.update(kw)
    return convert_ffpp(root, out, **args)


def _video(root, key):
    folder, name = key.split('/')
    if folder == 'real':
        return osp.join(root, 'original_sequences', 'youtube', 'c23',
                        'videos', f'{name}.mp4')
    return osp.join(root, 'manipulated_sequences', folder, 'c23', 'videos',
                    f'{name}.mp4')


@pytest.fixture(scope='module')
def clips_converted(ffpp_tree, dlib_det, tmp_path_factory):
    """One clip-mode conversion of the fixture tree: (summary, out_dir)."""
    out = str(tmp_path_factory.mktemp('ffpp_clips'))
    summary = _convert(ffpp_tree, out, face_detector=dlib_det)
    return summary, summary['out_dir']


# ------------------------------------------------------------ components
def test_clip_starts_reader_and_settings(ffpp_tree):
    from mmfocus.datasets.converters import ConvertSettings, read_frames
    from mmfocus.datasets.converters.video import FrameReader, clip_starts
    assert clip_starts(8, CLIPS, CLIP_LEN) == STARTS
    assert clip_starts(100, 3, 10) == [15, 45, 75]
    assert clip_starts(4, 5, 3) == [0, 1]  # only two possible starts
    assert clip_starts(2, 2, 3) == []  # shorter than a clip
    path = _video(ffpp_tree[0], 'real/002')
    ref, _ = read_frames(path, range(8))
    with FrameReader(path) as reader:
        for i in (1, 2, 3):
            np.testing.assert_array_equal(reader.read(i), ref[i])
        reader.release_before(2)
        np.testing.assert_array_equal(reader.read(2), ref[2])  # kept
        with pytest.raises(ValueError, match='released'):
            reader.read(1)
        np.testing.assert_array_equal(reader.read(7), ref[7])
        assert reader.read(9) is None  # past the end
    # frame mode: settings.json as before clip mode; clip mode: no frames
    frame = ConvertSettings(frames=4, size=64)
    assert set(frame.as_dict()) == {'frames', 'margin', 'size', 'mask_thr',
                                    'detector'}
    clip = ConvertSettings(size=64, clips=2, clip_len=3)
    assert clip.clip_mode and not frame.clip_mode
    assert 'frames' not in clip.as_dict()
    assert ConvertSettings(**clip.as_dict()) == clip  # worker round trip
    for bad in (dict(clips=2), dict(clip_len=3), dict(clips=0, clip_len=3),
                dict(clips=2, clip_len=1.5)):
        with pytest.raises(ValueError, match='clip'):
            ConvertSettings(**bad)


# ------------------------------------------------------------ full run
def test_clip_entries_consecutive_one_track(clips_converted):
    summary, out = clips_converted
    assert summary['merged'] and summary['processed'] == TOTAL_VIDEOS
    seen = set()
    for split in ('train', 'val', 'test'):
        ann = _load(out, split)
        meta = ann['metainfo']
        assert (meta['clips_per_video'], meta['clip_len']) == (CLIPS,
                                                               CLIP_LEN)
        assert 'frames_per_video' not in meta
        for e in ann['data_list']:
            k, vid = e['clip_idx'], e['video_id']
            assert isinstance(k, int) and k in (0, 1)
            assert e['frame_indices'] == list(range(STARTS[k],
                                                    STARTS[k] + CLIP_LEN))
            assert e['clip_paths'] == [f'frames/{vid}/clip{k}/{i:04d}.png'
                                       for i in e['frame_indices']]
            assert e['img_path'] == e['clip_paths'][0]
            assert e['gt_label'] == (0 if vid.startswith('real/') else 1)
            assert e['method'] == vid.split('/')[0]
            for p in e['clip_paths']:
                assert cv2.imread(osp.join(out, p)).shape == (SIZE, SIZE, 3)
            seen.add((vid, k))
    # 12 readable videos x 2 clips, minus the reported skips
    report = _report(out)
    skipped = sum(len(v) for v in report['clip_skips'].values())
    assert report['summary']['clips'] == len(seen) == 12 * CLIPS - skipped
    from mmfocus.datasets import FaceClipDataset
    ds = FaceClipDataset(ann_file='train.json', data_root=out,
                         clip_len=CLIP_LEN, pipeline=[])
    info = ds.get_data_info(0)
    assert len(info['clip_paths']) == CLIP_LEN
    assert all(p.startswith(out) for p in info['clip_paths'])


def test_one_fixed_crop_per_clip(ffpp_tree, clips_converted, dlib_det):
    """Every frame of a clip is the frame warped by the clip's one affine,
    the square around the mean of the track's face boxes (the 68-landmark
    extent, as frame mode), while the face moves from frame to frame."""
    from mmfocus.datasets.converters import read_frames
    from mmfocus.faces import crop_affine, square_box
    _, out = clips_converted
    root, _ = ffpp_tree
    entries = [e for e in _entries(out) if e['video_id'] in (
        'real/000', 'Deepfakes/003_002')]
    assert len(entries) >= 2 * CLIPS
    for e in entries:
        frames, _ = read_frames(_video(root, e['video_id']),
                                e['frame_indices'])
        extents = []
        for i in e['frame_indices']:
            face = max(dlib_det.detect(frames[i]),
                       key=lambda f: (f.bbox[2] - f.bbox[0]))
            pts = np.asarray(face.landmarks, np.float64)
            extents.append(np.concatenate([pts.min(0), pts.max(0)]))
        assert np.ptp([x[0] for x in extents]) > 3  # the face moves
        affine = crop_affine(*square_box(bbox=np.mean(extents, 0),
                                         margin=1.3), SIZE)
        np.testing.assert_allclose(e['crop_affine'], affine, atol=1e-3)
        for i, p in zip(e['frame_indices'], e['clip_paths']):
            warped = cv2.warpAffine(frames[i], affine, (SIZE, SIZE),
                                    flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
            crop = cv2.imread(osp.join(out, p))
            diff = np.abs(warped.astype(np.float32) - crop).mean()
            assert diff < 3, (p, diff)  # (crop_face's anti-alias blur)


def test_pairs_aligned_with_the_twin_clip(clips_converted):
    _, out = clips_converted
    entries = _entries(out)
    reals = {(e['video_id'], e['clip_idx']): e for e in entries
             if e['gt_label'] == 0}
    fakes = [e for e in entries if e['gt_label'] == 1]
    assert fakes and _report(out)['unpaired'] == {}
    for e in fakes:
        twin = reals[(f"real/{e['target']}", e['clip_idx'])]
        assert twin['frame_indices'] == e['frame_indices']
        assert e['clip_pair_paths'] == twin['clip_paths']
        to3 = [np.vstack([np.asarray(a, np.float64), [0, 0, 1]])
               for a in (e['crop_affine'], twin['crop_affine'])]
        warp = (to3[0] @ np.linalg.inv(to3[1]))[:2]

        def diff(t, real_path):
            fake = cv2.imread(osp.join(out, e['clip_paths'][t]))
            real = cv2.warpAffine(cv2.imread(osp.join(out, real_path)),
                                  warp, (SIZE, SIZE),
                                  borderMode=cv2.BORDER_REPLICATE)
            region = cv2.warpAffine(
                region_mask(e['frame_indices'][t]).astype(np.uint8),
                np.asarray(e['crop_affine']), (SIZE, SIZE))
            outside = cv2.erode(1 - region, np.ones((7, 7), np.uint8)) > 0
            outside[:4], outside[-4:] = False, False
            outside[:, :4], outside[:, -4:] = False, False
            d = np.abs(fake.astype(np.float32) - real).mean(-1)
            return d[outside].mean()

        for t in range(CLIP_LEN):
            same = diff(t, e['clip_pair_paths'][t])
            other = diff(t, e['clip_pair_paths'][(t + 1) % CLIP_LEN])
            assert same < 8 and other > 2 * same, (e['clip_paths'][t],
                                                   same, other)


def test_clip_masks(clips_converted):
    _, out = clips_converted
    n = 0
    for e in _entries(out):
        if e['method'] != 'Deepfakes':
            assert e['clip_mask_paths'] is None
            continue
        n += 1
        assert e['clip_mask_paths'] == [p.replace('frames/', 'masks/', 1)
                                        for p in e['clip_paths']]
        for i, p in zip(e['frame_indices'], e['clip_mask_paths']):
            mask = cv2.imread(osp.join(out, p), cv2.IMREAD_UNCHANGED)
            assert mask.shape == (SIZE, SIZE)
            ref = cv2.warpAffine(region_mask(i).astype(np.uint8),
                                 np.asarray(e['crop_affine']), (SIZE, SIZE))
            got = mask > 0
            assert (got & (ref > 0)).sum() / (got | (ref > 0)).sum() > 0.8
    assert n >= 4
    assert _report(out)['summary']['masks'] == n


def test_track_break_and_corrupt_reported_not_written(clips_converted):
    _, out = clips_converted
    report = _report(out)
    # frame 3 of 001 (and of its fakes) has no face: clip 0 (frames 1-3)
    for key in ['real/001'] + [f'{m}/001_000' for m in METHODS]:
        assert report['clip_skips'][key] == [dict(
            clip_idx=0, start=1, reason='track_broken',
            frame_idx=NO_FACE['001'], detail='no face in the frame')]
        assert report['few_clips'][key] == dict(clips=1, wanted=CLIPS)
        folder, name = key.split('/')
        assert not osp.exists(osp.join(out, 'frames', folder, name,
                                       'clip0'))
    written = {(e['video_id'], e['clip_idx']) for e in _entries(out)}
    n = 0
    for key, skips in report['clip_skips'].items():
        for s in skips:  # any other break is a frame without a face
            assert s['reason'] == 'track_broken'
            assert s['frame_idx'] in report['no_face'][key]
            assert (key, s['clip_idx']) not in written
            n += 1
    tot = report['summary']
    assert tot['clips_skipped'] == n == tot['clip_skip_reasons'][
        'track_broken']
    assert set(report['corrupt']) == {'real/004', 'Deepfakes/004_005'}
    assert _load(out, 'val')['data_list'] == []
    assert 'real/004' not in report['few_clips']  # listed as corrupt


# ------------------------------------------------- hand-made videos
def _chip(vid, t, side):
    names = sorted(os.listdir(osp.join(CHIPS, IDENTITIES[vid])))
    img = cv2.imread(osp.join(CHIPS, IDENTITIES[vid],
                              names[t % len(names)]))
    return cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)


def _wide_frames(left_until=8, second_from=None):
    """128 x 256 frames: face 000 at the left (drifting by 2 px a frame)
    until ``left_until``, then at the right; from ``second_from`` on also a
    larger face (002) at the right."""
    frames = []
    for t in range(8):
        img = np.full((128, 256, 3), (40 + 10 * t, 90, 140), np.uint8)
        x = 8 + 2 * t if t < left_until else 146
        img[10:110, x:x + 100] = _chip('000', t, 100)
        if second_from is not None and t >= second_from:
            img[6:122, 132:248] = _chip('002', t, 116)
        frames.append(img)
    return frames


def _process(task, out, det):
    from mmfocus.datasets.converters import ConvertSettings, process_video
    return process_video(task, str(out), ConvertSettings(
        size=SIZE, clips=CLIPS, clip_len=CLIP_LEN), det)


def test_face_jump_breaks_track_second_face_does_not(tmp_path, dlib_det):
    from mmfocus.datasets.converters import VideoTask, merge_records
    jump, two = str(tmp_path / 'jump.mp4'), str(tmp_path / 'two.mp4')
    write_video(jump, _wide_frames(left_until=2))
    write_video(two, _wide_frames(second_from=2))
    tasks = [VideoTask('real', 'jump', jump, 0, 'real', 'test'),
             VideoTask('real', 'two', two, 0, 'real', 'test')]
    out = tmp_path / 'out'
    rec = _process(tasks[0], out, dlib_det)
    # the face leaves the left between frames 1 and 2: clip 0 (1-3) breaks
    assert [s['reason'] for s in rec['clip_skips']] == ['track_broken']
    skip = rec['clip_skips'][0]
    assert (skip['clip_idx'], skip['frame_idx']) == (0, 2)
    assert 'jumped' in skip['detail'] and 'IoU 0.00' in skip['detail']
    assert [c['clip_idx'] for c in rec['clips']] == [1]
    assert not osp.exists(out / 'frames' / 'real' / 'jump' / 'clip0')
    rec = _process(tasks[1], out, dlib_det)
    assert dict(rec['face_counts'])[2] == 2  # both faces detected
    assert rec['clip_skips'] == []
    left, right = rec['clips']
    # clip 0 starts on the only face (left) and keeps it although the
    # larger face appears at the right in frames 2 and 3
    assert all(b[2] < 128 for b in left['boxes'])
    assert left['min_iou'] >= 0.3
    # clip 1 starts where both are there: the larger one, kept throughout
    assert all(b[0] > 128 for b in right['boxes'])
    report = merge_records(tasks, str(out), {'dataset': 't'}, min_faces=2)
    assert report['clip_skips']['real/jump'][0]['frame_idx'] == 2
    assert report['few_clips'] == {'real/jump': dict(clips=1, wanted=2)}
    assert len(_load(str(out), 'test')['data_list']) == 3


def test_too_short_unreadable_and_beyond_end(ffpp_tree, tmp_path, dlib_det):
    from mmfocus.datasets.converters import VideoTask, merge_records
    root, _ = ffpp_tree
    short = str(tmp_path / 'short.mp4')
    write_video(short, real_frames('000')[:2])
    seq = tmp_path / 'seq'  # an image sequence with a corrupt frame 5
    seq.mkdir()
    for t, img in enumerate(real_frames('002')):
        cv2.imwrite(str(seq / f'{t}.png'), img)
    (seq / '5.png').write_bytes(b'not a png')
    fake = str(tmp_path / '000_001.mp4')  # a fake 3 frames shorter
    write_video(fake, fake_frames('000', 'Deepfakes')[:5])
    real = _video(root, 'real/000')
    tasks = [
        VideoTask('real', 'short', short, 0, 'real', 'test'),
        VideoTask('real', 'seq', str(seq), 0, 'real', 'test'),
        VideoTask('real', '000', real, 0, 'real', 'test'),
        VideoTask('Deepfakes', '000_001', fake, 1, 'Deepfakes', 'test',
                  index_path=real, pair='real/000')]
    out = tmp_path / 'out'
    recs = {t.key: _process(t, out, dlib_det) for t in tasks}
    rec = recs['real/short']
    assert rec['status'] == 'ok' and rec['clips'] == []
    assert [(s['reason'], s['frames']) for s in rec['clip_skips']] == [
        ('too_short', 2)]
    rec = recs['real/seq']
    assert rec['status'] == 'truncated' and rec['unreadable'] == [5]
    assert [(s['clip_idx'], s['reason'], s['frame_idx'])
            for s in rec['clip_skips']] == [(1, 'unreadable', 5)]
    assert [c['frame_indices'] for c in rec['clips']] == [[1, 2, 3]]
    rec = recs['Deepfakes/000_001']
    assert rec['beyond_end'] == [5, 6]
    assert [(s['clip_idx'], s['reason']) for s in rec['clip_skips']] == [
        (1, 'beyond_end')]
    report = merge_records(tasks, str(out), {'dataset': 't'}, min_faces=2)
    assert report['too_short'] == {'real/short': 2}
    assert report['truncated'] == {'real/seq': [5]}
    assert report['beyond_end'] == {'Deepfakes/000_001': [5, 6]}
    assert report['summary']['clip_skip_reasons'] == dict(
        too_short=1, beyond_end=1, unreadable=1, track_broken=0)
    assert set(report['few_clips']) == {'real/short', 'real/seq',
                                        'Deepfakes/000_001'}
    entries = {(e['video_id'], e['clip_idx']): e
               for e in _load(str(out), 'test')['data_list']}
    assert set(entries) == {('real/seq', 0), ('real/000', 0),
                            ('real/000', 1), ('Deepfakes/000_001', 0)}
    assert entries[('Deepfakes/000_001', 0)]['clip_pair_paths'] == \
        entries[('real/000', 0)]['clip_paths']


# ----------------------------------------------- resume, settings, CLI
def test_resume_after_interruption(ffpp_tree, clips_converted, dlib_det,
                                   tmp_path, monkeypatch, read_tree,
                                   kill_at_save):
    _, ref = clips_converted
    out = str(tmp_path / 'out')
    kill_at_save(30)  # in the middle of Deepfakes/003_002's clips
    with pytest.raises(KeyboardInterrupt):
        _convert(ffpp_tree, out, face_detector=dlib_det)
    monkeypatch.undo()
    c23 = osp.join(out, 'c23')
    records = [n for _, _, ns in os.walk(osp.join(c23, 'records'))
               for n in ns]
    assert 0 < len(records) < TOTAL_VIDEOS
    assert not osp.exists(osp.join(c23, 'train.json'))
    summary = _convert(ffpp_tree, out, face_detector=dlib_det)
    assert summary['skipped'] == len(records)
    assert summary['processed'] == TOTAL_VIDEOS - len(records)
    assert read_tree(c23) == read_tree(ref)
    again = _convert(ffpp_tree, out, face_detector=dlib_det)
    assert again['processed'] == 0 and again['skipped'] == TOTAL_VIDEOS


def test_settings_refuse_mixing_modes(ffpp_tree, clips_converted, dlib_det,
                                      tmp_path):
    from mmfocus.datasets.converters import ConvertSettings
    _, ref = clips_converted
    clip_dir = tmp_path / 'clips' / 'c23'
    clip_dir.mkdir(parents=True)
    shutil.copy(osp.join(ref, 'settings.json'), clip_dir)
    kw = dict(face_detector=dlib_det)
    with pytest.raises(ValueError, match=r'converted in clip mode \(--clips '
                       r'2 --clip-len 3\), not in frame mode'):
        _convert(ffpp_tree, str(tmp_path / 'clips'), clips=None,
                 clip_len=None, **kw)
    with pytest.raises(ValueError, match=r'not in clip mode \(--clips 3 '
                       r'--clip-len 3\)'):
        _convert(ffpp_tree, str(tmp_path / 'clips'), clips=3, **kw)
    with pytest.raises(ValueError, match=r'--clip-len 4\)'):
        _convert(ffpp_tree, str(tmp_path / 'clips'), clip_len=4, **kw)
    with pytest.raises(ValueError, match='other settings.*size'):
        _convert(ffpp_tree, str(tmp_path / 'clips'), size=32, **kw)
    frame_dir = tmp_path / 'frames' / 'c23'
    frame_dir.mkdir(parents=True)
    (frame_dir / 'settings.json').write_text(json.dumps(dict(
        dataset='FaceForensics++',
        **ConvertSettings(frames=4, size=SIZE).as_dict())))
    with pytest.raises(ValueError, match=r'converted in frame mode'):
        _convert(ffpp_tree, str(tmp_path / 'frames'), **kw)
    assert os.listdir(frame_dir) == ['settings.json']  # nothing written


def test_cli_clips(ffpp_tree, clips_converted, tmp_path, capsys, read_tree,
                   load_tool):
    """tools/dataset_converters/ffpp.py --clips K --clip-len T."""
    tool = load_tool('tools/dataset_converters/ffpp.py')
    root, split_dir = ffpp_tree
    _, ref = clips_converted
    out = tmp_path / 'out'
    shutil.copytree(ref, out / 'c23')
    os.remove(out / 'c23' / 'train.json')
    frame_args = [root, str(out), '--compression', 'c23', '--methods',
                  *METHODS, '--size', '64', '--real-oversample', '2',
                  '--splits', split_dir, '--no-progress']
    base = frame_args + ['--clips', '2', '--clip-len', '3']
    assert tool.main(base + ['--merge-only']) == 0
    assert read_tree(str(out / 'c23')) == read_tree(ref)
    assert tool.main(base + ['--frames', '7']) == 0  # --frames: not used
    printed = capsys.readouterr().out
    assert f'0 converted now, {TOTAL_VIDEOS} already done' in printed
    assert 'clips of 3 frames' in printed and 'fake clips' in printed
    main = tool.cli_main(tool.main)
    for argv, msg in ((frame_args + ['--frames', '4'], 'frame mode'),
                      (frame_args + ['--clips', '2'], '--clip-len'),
                      (base[:-1] + ['0'], 'clip_len must be a positive'),
                      (frame_args + ['--clips', '4', '--clip-len', '3'],
                       'not in clip mode (--clips 4 --clip-len 3)')):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 1
        err = capsys.readouterr().err
        assert err.startswith('error:') and msg in err, err
