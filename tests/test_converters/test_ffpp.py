# Copyright (c) mmfocus contributors.
"""tools/dataset_converters/ffpp.py and mmfocus.datasets.converters on a
tiny FaceForensics++ tree in the published layout (see conftest.py)."""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from ffpp_fixture import (CONVERT_KW, METHODS, N_FRAMES, NO_FACE, SPLITS,
                          region_mask)

pytest.importorskip('dlib')

# the fixture's expectations, from its definition
TOTAL_VIDEOS = 14  # reals 000-004 + 2 methods x 4 fakes + corrupt 004_005
SAMPLED = [1, 3, 5, 7]  # sample_indices(8, 4)




def _load(out_dir, split):
    with open(osp.join(out_dir, f'{split}.json')) as f:
        return json.load(f)


def _split_of(vid):
    return next(s for s, pairs in SPLITS.items()
                for pair in pairs if vid in pair)


def _to_crop(affine):
    """3x3 of a 2x3 frame -> crop affine."""
    return np.vstack([np.asarray(affine, np.float64), [0, 0, 1]])


# ------------------------------------------------------------ components
def test_sample_indices_definition():
    from mmfocus.datasets.converters import sample_indices
    assert sample_indices(8, 4) == SAMPLED
    assert sample_indices(300, 10) == [15 + 30 * k for k in range(10)]
    assert sample_indices(3, 10) == [0, 1, 2]
    assert sample_indices(0, 10) == []
    for n, k in ((1000, 7), (11, 10), (97, 32)):
        idx = sample_indices(n, k)
        assert len(idx) == k and len(set(idx)) == k and idx == sorted(idx)
        assert 0 <= idx[0] and idx[-1] < n
        # frame i (covering [i, i + 1)) holds the middle of segment j
        for j, i in enumerate(idx):
            assert i <= (j + 0.5) * n / k < i + 1
    with pytest.raises(ValueError):
        sample_indices(10, 0)


def test_read_frames_matches_sequential_decoding(ffpp_tree):
    from mmfocus.datasets.converters import (VideoReadError,
                                             probe_frame_count, read_frames)
    root, _ = ffpp_tree
    path = osp.join(root, 'original_sequences', 'youtube', 'c23', 'videos',
                    '002.mp4')
    cap = cv2.VideoCapture(path)
    ref = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        ref.append(img)
    assert len(ref) == N_FRAMES == probe_frame_count(path)
    frames, unreadable = read_frames(path, [6, 2, 9, 0])
    assert sorted(frames) == [0, 2, 6] and unreadable == [9]
    for i in frames:
        np.testing.assert_array_equal(frames[i], ref[i])
    bad = osp.join(root, 'original_sequences', 'youtube', 'c23', 'videos',
                   '004.mp4')
    with pytest.raises(VideoReadError, match='004.mp4'):
        read_frames(bad, [0])
    with pytest.raises(VideoReadError):
        probe_frame_count(bad)


def test_splits_shipped_and_read():
    from mmfocus.datasets.converters import load_ffpp_splits
    pairs = load_ffpp_splits()  # the official files shipped in the package
    assert {s: len(p) for s, p in pairs.items()} == dict(
        train=360, val=70, test=70)
    ids = [v for s in pairs.values() for p in s for v in p]
    assert len(ids) == len(set(ids)) == 1000
    assert ('515', '519') in pairs['train']


def test_bad_split_file(tmp_path):
    from mmfocus.datasets.converters import load_ffpp_splits
    for split, pairs in dict(train=[['1', '2']], val=[['2', '3']],
                             test=[]).items():
        (tmp_path / f'{split}.json').write_text(json.dumps(pairs))
    with pytest.raises(ValueError, match='also in the train split'):
        load_ffpp_splits(str(tmp_path))
    (tmp_path / 'val.json').write_text('[["4"]]')
    with pytest.raises(ValueError, match='val.json'):
        load_ffpp_splits(str(tmp_path))
    (tmp_path / 'val.json').write_text('[["4", "5"]]')
    assert load_ffpp_splits(str(tmp_path))['val'] == [('4', '5')]
    os.remove(tmp_path / 'test.json')
    with pytest.raises(FileNotFoundError, match='test.json'):
        load_ffpp_splits(str(tmp_path))


# ------------------------------------------------------------ full run
def test_labels_splits_and_report(ffpp_converted):
    summary, out = ffpp_converted
    assert summary['merged'] and summary['processed'] == TOTAL_VIDEOS
    assert sorted(summary['corrupt']) == ['Deepfakes/004_005', 'real/004']
    assert summary['ignored']['real'] == 1  # 099.mp4 is in no split
    assert set(os.listdir(out)) >= {'train.json', 'val.json', 'test.json',
                                    'report.json', 'frames', 'masks'}
    seen = set()
    for split in ('train', 'val', 'test'):
        ann = _load(out, split)
        assert ann['metainfo']['classes'] == ['real', 'fake']
        assert ann['metainfo']['split'] == split
        for e in ann['data_list']:
            vid = e['video_id'].split('/')[1]
            target = vid.split('_')[0]
            assert _split_of(target) == split
            if e['method'] == 'real':
                assert e['gt_label'] == 0 and e['video_id'] == f'real/{vid}'
                assert e['pair_path'] is None and e['mask_path'] is None
            else:
                assert e['method'] in METHODS and e['gt_label'] == 1
                assert e['video_id'] == f"{e['method']}/{vid}"
                assert (e['target'], e['source']) == tuple(vid.split('_'))
            assert e['frame_idx'] in SAMPLED
            assert e['frame_idx'] != NO_FACE.get(target)
            assert e['img_path'] == (f"frames/{e['video_id']}/"
                                     f"{e['frame_idx']:04d}.png")
            crop = cv2.imread(osp.join(out, e['img_path']))
            assert crop.shape == (64, 64, 3)
            lmk = np.asarray(e['landmarks'])
            assert lmk.shape == (68, 2)
            assert (lmk > -2).all() and (lmk < 66).all()
            seen.add((split, e['video_id'], e['frame_idx']))
    train = _load(out, 'train')['data_list']
    # real 000 (4 frames) + 001 (3: frame 3 has no face), each twice
    reals = [e for e in train if e['gt_label'] == 0]
    assert len(reals) == 2 * 7
    assert len({(e['video_id'], e['frame_idx']) for e in reals}) == 7
    assert len(train) - len(reals) == len(METHODS) * 7
    assert _load(out, 'val')['data_list'] == []  # 004 corrupt, 005 missing
    test = _load(out, 'test')['data_list']
    assert len(test) == 8 + len(METHODS) * 8  # real_oversample: train only

    with open(osp.join(out, 'report.json')) as f:
        report = json.load(f)
    assert set(report['corrupt']) == {'real/004', 'Deepfakes/004_005'}
    assert report['no_face'] == {'real/001': [3], 'Deepfakes/001_000': [3],
                                 'Face2Face/001_000': [3]}
    assert sorted(report['missing']) == [
        'Deepfakes/005_004', 'Face2Face/004_005', 'Face2Face/005_004',
        'real/005']
    tot = report['summary']
    assert tot['videos'] == TOTAL_VIDEOS and tot['corrupt'] == 2
    assert tot['no_face_frames'] == 3 and tot['faces'] == 12 * 4 - 3
    assert report['few_faces'] == {}


def test_min_faces_report(ffpp_tree, ffpp_converted, tmp_path):
    from mmfocus.datasets.converters import collect_ffpp, merge_records
    root, split_dir = ffpp_tree
    _, out = ffpp_converted
    tasks, missing, _ = collect_ffpp(root, 'c23', METHODS, split_dir)
    copy = str(tmp_path / 'c23')
    shutil.copytree(out, copy)
    report = merge_records(tasks, copy, {}, min_faces=4, missing=missing)
    # the videos of target 001 have 3 faces in 4 sampled frames
    assert report['few_faces'] == {
        k: dict(faces=3, sampled=4)
        for k in ('real/001', 'Deepfakes/001_000', 'Face2Face/001_000')}


def test_pairing_same_frame_of_target(ffpp_converted):
    """A fake's pair_path is its target's crop of the same frame: aligned
    with the stored affines, the two crops agree outside the manipulated
    region, and a crop of another frame does not."""
    _, out = ffpp_converted
    fakes = [e for s in ('train', 'test') for e in _load(out, s)['data_list']
             if e['gt_label'] == 1]
    assert len(fakes) == len(METHODS) * 15
    reals = {(e['img_path']): e for s in ('train', 'test')
             for e in _load(out, s)['data_list'] if e['gt_label'] == 0}
    for e in fakes:
        assert e['pair_path'] == (f"frames/real/{e['target']}/"
                                  f"{e['frame_idx']:04d}.png")
        twin = reals[e['pair_path']]
        assert twin['frame_idx'] == e['frame_idx']
        fake = cv2.imread(osp.join(out, e['img_path'])).astype(np.float32)
        t = e['frame_idx']
        region = cv2.warpAffine(region_mask(t).astype(np.uint8),
                                np.asarray(e['crop_affine']), (64, 64),
                                flags=cv2.INTER_NEAREST)
        outside = cv2.erode((1 - region).astype(np.uint8),
                            np.ones((7, 7), np.uint8)).astype(bool)
        outside[:4], outside[-4:] = False, False
        outside[:, :4], outside[:, -4:] = False, False

        def diff(real_entry):
            real = cv2.imread(osp.join(out, real_entry['img_path']))
            warp = (_to_crop(e['crop_affine']) @ np.linalg.inv(
                _to_crop(real_entry['crop_affine'])))[:2]
            real = cv2.warpAffine(real, warp, (64, 64),
                                  flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
            return np.abs(fake - real.astype(np.float32)).mean(-1)

        d = diff(twin)
        other = [r for r in reals.values()
                 if r['video_id'] == twin['video_id']
                 and r['frame_idx'] != t]
        # measured: outside <= 4.3, region >= 23, other frames >= 33
        assert d[outside].mean() < 8, (e['img_path'], d[outside].mean())
        assert d[region.astype(bool)].mean() > 15
        assert other and min(diff(r)[outside].mean() for r in other) > 20


def test_masks(ffpp_converted):
    _, out = ffpp_converted
    entries = [e for s in ('train', 'test')
               for e in _load(out, s)['data_list']]
    n = 0
    for e in entries:
        if e['method'] != 'Deepfakes':
            assert e['mask_path'] is None  # no masks/videos for the others
            continue
        n += 1
        assert e['mask_path'] == e['img_path'].replace('frames/', 'masks/')
        mask = cv2.imread(osp.join(out, e['mask_path']), cv2.IMREAD_UNCHANGED)
        assert mask.shape == (64, 64) and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 255}
        ref = cv2.warpAffine(region_mask(e['frame_idx']).astype(np.uint8),
                             np.asarray(e['crop_affine']), (64, 64),
                             flags=cv2.INTER_LINEAR) > 0
        got = mask > 0
        iou = (got & ref).sum() / (got | ref).sum()
        assert iou > 0.8, (e['mask_path'], iou)
    assert n == 15


def test_face_forgery_dataset_loads_output(ffpp_converted):
    from mmfocus.datasets import FaceForgeryDataset
    _, out = ffpp_converted
    pipeline = [dict(type='LoadFace'), dict(type='LoadManipulationMask'),
                dict(type='PackFaceInputs')]
    ds = FaceForgeryDataset(ann_file='train.json', data_root=out,
                            pipeline=pipeline)
    assert len(ds) == 28
    assert sorted(np.bincount(ds.get_gt_labels()).tolist()) == [14, 14]
    fake_idx = next(i for i in range(len(ds))
                    if ds.get_data_info(i)['method'] == 'Deepfakes')
    item = ds[fake_idx]
    assert tuple(item['inputs'].shape) == (3, 64, 64)
    sample = item['data_samples']
    assert sample.has_mask and float(sample.gt_mask.max()) == 1.0
    assert osp.isfile(sample.pair_path) and sample.pair_path.startswith(out)
    only = FaceForgeryDataset(ann_file='test.json', data_root=out,
                              methods=['Face2Face'], pipeline=pipeline)
    assert {only.get_data_info(i)['method'] for i in range(len(only))} == {
        'real', 'Face2Face'}


# ------------------------------------------- resume, shards, workers, CLI
def _convert(ffpp_tree, out, **kw):
    from mmfocus.datasets.converters import convert_ffpp
    root, split_dir = ffpp_tree
    args = dict(CONVERT_KW, split_dir=split_dir)
    args.update(kw)
    return convert_ffpp(root, out, **args)


def test_resume_after_interruption(ffpp_tree, ffpp_converted, dlib_det,
                                   tmp_path, monkeypatch, read_tree,
                                   kill_at_save):
    _, ref = ffpp_converted
    out = str(tmp_path / 'out')
    kill_at_save(20)  # in the middle of a video
    with pytest.raises(KeyboardInterrupt):
        _convert(ffpp_tree, out, face_detector=dlib_det)
    monkeypatch.undo()
    c23 = osp.join(out, 'c23')
    records = [n for _, _, ns in os.walk(osp.join(c23, 'records'))
               for n in ns]
    assert 0 < len(records) < TOTAL_VIDEOS
    assert not osp.exists(osp.join(c23, 'train.json'))
    assert not [n for _, _, ns in os.walk(c23) for n in ns
                if n.endswith('.tmp')]  # no half-written file
    summary = _convert(ffpp_tree, out, face_detector=dlib_det)
    assert summary['skipped'] == len(records)
    assert summary['processed'] == TOTAL_VIDEOS - len(records)
    assert summary['merged']
    assert read_tree(c23) == read_tree(ref)
    again = _convert(ffpp_tree, out, face_detector=dlib_det)
    assert again['processed'] == 0 and again['skipped'] == TOTAL_VIDEOS


def test_changed_source_is_redone(ffpp_tree, dlib_det, tmp_path):
    root = str(tmp_path / 'root')
    shutil.copytree(ffpp_tree[0], root)
    tree = (root, osp.join(root, 'splits'))
    out = str(tmp_path / 'out')
    _convert(tree, out, face_detector=dlib_det)
    real = osp.join(root, 'original_sequences', 'youtube', 'c23', 'videos',
                    '002.mp4')
    os.utime(real, ns=(1, 10**18))
    summary = _convert(tree, out, face_detector=dlib_det)
    # the real video and its two fakes (their frame indices come from it)
    assert summary['processed'] == 1 + len(METHODS)
    with pytest.raises(ValueError, match='other settings.*frames'):
        _convert(tree, out, face_detector=dlib_det, frames=5)


def test_shards_then_merge_equal_full_run(ffpp_tree, ffpp_converted,
                                          dlib_det, tmp_path, read_tree):
    _, ref = ffpp_converted
    out = str(tmp_path / 'out')
    first = _convert(ffpp_tree, out, shard='0/2', face_detector=dlib_det)
    assert first['selected'] == TOTAL_VIDEOS // 2 and not first['merged']
    assert first['pending'] == TOTAL_VIDEOS - first['selected']
    assert not osp.exists(osp.join(out, 'c23', 'train.json'))
    with pytest.raises(RuntimeError, match='not converted yet'):
        _convert(ffpp_tree, out, merge='only', face_detector=dlib_det)
    second = _convert(ffpp_tree, out, shard='1/2', face_detector=dlib_det)
    assert second['merged'] and second['processed'] == second['selected']
    assert first['selected'] + second['selected'] == TOTAL_VIDEOS
    assert read_tree(osp.join(out, 'c23')) == read_tree(ref)
    merged = _convert(ffpp_tree, out, merge='only', face_detector=dlib_det)
    assert merged['processed'] == 0 and merged['merged']
    assert read_tree(osp.join(out, 'c23')) == read_tree(ref)


def test_two_workers_and_progress_bar(ffpp_tree, ffpp_converted, tmp_path,
                                      capsys, read_tree):
    _, ref = ffpp_converted
    out = str(tmp_path / 'out')
    summary = _convert(ffpp_tree, out, workers=2, progress=True)
    assert summary['merged'] and summary['processed'] == TOTAL_VIDEOS
    err = capsys.readouterr().err
    assert f'{TOTAL_VIDEOS}/{TOTAL_VIDEOS}' in err and 'video/s' in err
    assert 'skipped corrupt video real/004' in err
    assert read_tree(osp.join(out, 'c23')) == read_tree(ref)


def test_truncated_video(ffpp_tree, dlib_det, tmp_path, monkeypatch):
    from mmfocus.datasets.converters import (ConvertSettings, VideoTask,
                                             merge_records, process)
    root, _ = ffpp_tree
    path = osp.join(root, 'original_sequences', 'youtube', 'c23', 'videos',
                    '000.mp4')
    real_read = process.read_frames

    def cut(p, indices, **kwargs):  # the stream ends after frame 4
        frames, bad = real_read(p, [i for i in indices if i <= 4], **kwargs)
        return frames, sorted(set(bad) | {i for i in indices if i > 4})

    monkeypatch.setattr(process, 'read_frames', cut)
    task = VideoTask('real', '000', path, 0, 'real', 'test')
    rec = process.process_video(task, str(tmp_path), ConvertSettings(
        frames=4, size=64), dlib_det)
    assert rec['status'] == 'truncated' and rec['unreadable'] == [5, 7]
    assert [f['frame_idx'] for f in rec['frames']] == [1, 3]
    report = merge_records([task], str(tmp_path), {})
    assert report['truncated'] == {'real/000': [5, 7]}
    assert len(_load(str(tmp_path), 'test')['data_list']) == 2


def test_fake_shorter_than_its_twin(ffpp_tree, dlib_det, tmp_path):
    from ffpp_fixture import fake_frames, write_video

    from mmfocus.datasets.converters import (ConvertSettings, VideoTask,
                                             merge_records, process_video)
    root, _ = ffpp_tree
    real = osp.join(root, 'original_sequences', 'youtube', 'c23', 'videos',
                    '000.mp4')
    short = str(tmp_path / '000_001.mp4')
    write_video(short, fake_frames('000', 'Deepfakes')[:5])
    task = VideoTask('Deepfakes', '000_001', short, 1, 'Deepfakes', 'test',
                     index_path=real)
    rec = process_video(task, str(tmp_path), ConvertSettings(
        frames=4, size=64), dlib_det)
    # indices of the 8-frame twin; 5 and 7 do not exist in the fake
    assert rec['indices'] == SAMPLED and rec['status'] == 'ok'
    assert rec['beyond_end'] == [5, 7] and rec['unreadable'] == []
    assert [f['frame_idx'] for f in rec['frames']] == [1, 3]
    report = merge_records([task], str(tmp_path), {})
    assert report['beyond_end'] == {'Deepfakes/000_001': [5, 7]}


def test_cli(ffpp_cli, ffpp_converted, tmp_path, capsys, read_tree):
    tool, out, base = ffpp_cli
    ref = ffpp_converted[1]
    os.remove(out / 'c23' / 'train.json')
    assert tool.main(base + ['--merge-only']) == 0
    assert 'wrote the annotation files' in capsys.readouterr().out
    assert read_tree(str(out / 'c23')) == read_tree(ref)
    assert tool.main(base) == 0  # everything done: only re-merged
    assert f'0 converted now, {TOTAL_VIDEOS} already done' in \
        capsys.readouterr().out
    main = tool.cli_main(tool.main)
    for argv, msg in (
            ([str(tmp_path / 'nope')] + base[1:], 'FF++ root not found'),
            (base + ['--frames', '5'], 'other settings'),
            (base + ['--shard', '2/2'], '--shard'),
            (base + ['--methods', 'FaceSwap'], 'FaceSwap videos not found'),
            (base + ['--detector', 'retinaface'], '--detector-weights')):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 1
        err = capsys.readouterr().err
        assert err.startswith('error:') and msg in err, err


def test_one_detect_batch_call_per_video(ffpp_tree, dlib_det, tmp_path):
    """process_video hands all sampled frames of a video to the detector in
    one detect_batch call; the record is the one of per-frame detection."""
    from mmfocus.datasets.converters import (ConvertSettings, VideoTask,
                                             process_video)
    from mmfocus.faces import BaseFaceDetector

    class Batching(BaseFaceDetector):
        calls = []

        def detect(self, img):
            return dlib_det.detect(img)

        def detect_batch(self, imgs):
            self.calls.append(len(imgs))
            return super().detect_batch(imgs)

    root, _ = ffpp_tree
    real = osp.join(root, 'original_sequences', 'youtube', 'c23', 'videos',
                    '000.mp4')
    recs = []
    for det, out in ((Batching(), tmp_path / 'a'), (dlib_det, tmp_path / 'b')):
        task = VideoTask('real', '000', real, 0, 'youtube', 'test')
        recs.append(process_video(task, str(out), ConvertSettings(
            frames=4, size=64), det))
    assert Batching.calls == [4]
    assert recs[0] == recs[1] and len(recs[0]['frames']) >= 3


def test_cli_torch_retinaface(ffpp_tree, tmp_path, capsys, load_tool):
    """--detector retinaface with a PyTorch weight file runs the batched
    TorchRetinaFaceDetector (random weights whose face class never wins:
    every sampled frame is recorded as faceless, nothing crashes)."""
    import torch

    from mmfocus.faces.retinaface import RetinaFaceNet
    tool = load_tool('tools/dataset_converters/ffpp.py')
    root, split_dir = ffpp_tree
    net = RetinaFaceNet()
    for head in net.ClassHead:
        head.conv1x1.bias.data[1::2] -= 50.0
    weights = tmp_path / 'mobilenet0.25_Final.pth'
    torch.save({'state_dict': {'module.' + k: v
                               for k, v in net.state_dict().items()}},
               weights)
    out = tmp_path / 'out'
    argv = [root, str(out), '--compression', 'c23', '--frames', '4',
            '--methods', METHODS[0], '--size', '64', '--splits', split_dir,
            '--no-progress', '--detector', 'retinaface',
            '--detector-weights', str(weights), '--detector-device', 'cpu',
            '--detector-batch', '3']
    tool.main(argv)
    records = [osp.join(d, f) for d, _, fs in os.walk(out) for f in fs
               if f.endswith('.json') and 'records' in d]
    assert records
    for path in records:
        with open(path) as f:
            rec = json.load(f)
        if rec['status'] == 'corrupt':
            continue
        assert rec['frames'] == [] and rec['no_face'] == rec['indices']
        assert [c for _, c in rec['face_counts']] == [0] * 4
    with open(out / 'c23' / 'settings.json') as f:
        detector = json.load(f)['detector']
    # where and in what batches it ran is not a setting of the output
    assert detector['type'] == 'TorchRetinaFaceDetector'
    assert 'device' not in detector and 'batch_size' not in detector
    capsys.readouterr()
    tool.main(argv[:-1] + ['5'])  # another batch size: all done already
    assert '0 converted now' in capsys.readouterr().out
    # a weight file of another network: one clear error line
    bad = tmp_path / 'other.pth'
    torch.save({'conv.weight': torch.zeros(3)}, bad)
    main = tool.cli_main(tool.main)
    argv[1] = str(tmp_path / 'out2')
    with pytest.raises(SystemExit) as exc:
        main(argv[:-6] + ['--detector', 'retinaface', '--detector-weights',
                          str(bad), '--detector-device', 'cpu'])
    assert exc.value.code == 1
    assert 'does not match the model RetinaFaceNet' in capsys.readouterr().err
