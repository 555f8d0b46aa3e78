# Copyright (c) mmfocus contributors.
"""tools/misc/build_demo_data.py on a small copy of demo/faces."""
import importlib.util
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

pytest.importorskip('dlib')

PHOTOS = ('2008_001009.jpg', '2008_001322.jpg', '2009_004587.jpg')
CHIPS = ('000288_00470387.jpg', '000297_00470170.jpg', '000300_00470148.jpg',
         '000304_00470122.jpg')


def _load_tool(repo_root):
    path = osp.join(repo_root, 'tools', 'misc', 'build_demo_data.py')
    spec = importlib.util.spec_from_file_location('build_demo_data', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module




@pytest.fixture(scope='module')
def src(tmp_path_factory, repo_root):
    faces = osp.join(repo_root, 'demo', 'faces')
    root = tmp_path_factory.mktemp('faces')
    os.makedirs(root / 'photos')
    os.makedirs(root / 'chips' / 'John_Simm')
    for name in PHOTOS:
        shutil.copy(osp.join(faces, 'photos', name), root / 'photos' / name)
    for name in CHIPS:
        shutil.copy(osp.join(faces, 'chips', 'John_Simm', name),
                    root / 'chips' / 'John_Simm' / name)
    (root / 'photos' / 'broken.jpg').write_bytes(b'\xff\xd8 not a jpeg')
    blank = np.full((80, 80, 3), 128, np.uint8)
    cv2.imwrite(str(root / 'photos' / 'blank.jpg'), blank)
    return str(root)


@pytest.fixture(scope='module')
def built(src, tmp_path_factory, repo_root):
    tool = _load_tool(repo_root)
    out = str(tmp_path_factory.mktemp('demo') / 'demo_faces')
    rc = tool.main(['--src', src, '--out', out, '--size', '112',
                    '--seed', '0'])
    assert rc == 0
    return tool, out


def test_outputs_and_dataset_loading(built, capsys):
    from mmengine.dataset import BaseDataset
    _, out = built
    summary = json.load(open(osp.join(out, 'summary.json')))
    # the corrupt jpg is reported by name, the faceless one too
    assert list(summary['unreadable']) == ['broken']
    assert summary['no_face'] == ['blank']
    n_faces = sum(summary['faces'].values())
    assert n_faces >= 2 + 3 + 2 + 4 + 1  # photos + chips + astronaut
    ids = {}
    for split in ('train', 'val', 'test'):
        ann = json.load(open(osp.join(out, f'{split}.json')))
        assert ann['metainfo']['classes'] == ['real', 'fake']
        assert ann['metainfo']['dataset'] == 'demo-sbi'
        assert 'NOT FaceForensics++' in ann['metainfo']['description']
        entries = ann['data_list']
        # each real: itself, its whole-face fake and one local-region fake
        assert entries and len(entries) == 3 * summary['faces'][split]
        ids[split] = {e['video_id'] for e in entries}
        for e in entries:
            assert len(e['landmarks']) == 68
            img = cv2.imread(osp.join(out, e['img_path']))
            assert img.shape == (112, 112, 3)
            lmk = np.array(e['landmarks'])
            assert (lmk > -1).all() and (lmk < 112).all()
            if e['gt_label'] == 0:
                assert e['method'] == 'real' and e['mask_path'] is None
                assert e['pair_path'] is None
                assert e['img_path'].startswith('real/')
                continue
            assert e['method'] == ('sbi' if e['region'] == 'face' else
                                   f"sbi-{e['region']}")
            real = cv2.imread(osp.join(out, e['pair_path']))
            mask = cv2.imread(osp.join(out, e['mask_path']),
                              cv2.IMREAD_UNCHANGED)
            assert mask.dtype == np.uint8 and mask.shape == (112, 112)
            # stored fakes blend at a ratio >= 0.75: the binarised mask
            # (> 0.5) is never empty
            assert mask.max() >= 191
            # the fake differs from its real twin only where the mask is on
            changed = np.abs(img.astype(int) - real).max(-1) > 0
            assert not (changed & (mask == 0)).any()
            assert changed.any()
        ds = BaseDataset(ann_file=f'{split}.json', data_root=out,
                         serialize_data=False)
        assert len(ds) == len(entries)
        assert ds.metainfo['classes'] == ['real', 'fake']
        assert osp.isfile(ds[0]['img_path'])
    # split by source photo / identity: no video in two splits
    assert not (ids['train'] & ids['val'] or ids['train'] & ids['test']
                or ids['val'] & ids['test'])
    assert 'John_Simm' in ids['test']
    photo_ids = {p[:-4] for p in PHOTOS} | {'astronaut'}
    assert ids['test'] & photo_ids


def test_local_region_fakes_and_crop_jitter(built):
    from mmfocus.faces.sbi import LOCAL_REGIONS
    _, out = built
    summary = json.load(open(osp.join(out, 'summary.json')))
    entries = [e for s in ('train', 'val', 'test')
               for e in json.load(open(osp.join(out, f'{s}.json')))
               ['data_list']]
    reals = [e for e in entries if e['gt_label'] == 0]
    fakes = [e for e in entries if e['gt_label'] == 1]
    local = [e for e in fakes if e['region'] != 'face']
    assert len(local) == len(reals) == len(fakes) // 2
    # the seeded cycle: every region type, counts differing by at most 1
    counts = {r: sum(e['region'] == r for e in local) for r in LOCAL_REGIONS}
    if len(local) >= len(LOCAL_REGIONS):
        assert min(counts.values()) >= 1
    assert max(counts.values()) - min(counts.values()) <= 1
    assert sum(sum(v.values()) for v in summary['regions'].values()) == \
        len(fakes)
    for e in local:
        mask = cv2.imread(osp.join(out, e['mask_path']), cv2.IMREAD_UNCHANGED)
        whole = cv2.imread(osp.join(out, e['mask_path'].replace(
            f"_{e['region']}.png", '.png')), cv2.IMREAD_UNCHANGED)
        # a local region covers less of the face than the whole-face blend
        assert 0 < (mask > 127).sum() < (whole > 127).sum()
        lmk = np.array(e['landmarks'])
        ys, xs = np.nonzero(mask > 127)
        if e['region'] == 'mouth':  # below the eyes, around the lips
            assert ys.mean() > lmk[36:48, 1].mean()
            assert abs(ys.mean() - lmk[48:60, 1].mean()) < 0.1 * 112
        if e['region'] == 'eyes':
            assert abs(ys.mean() - lmk[36:48, 1].mean()) < 0.1 * 112
    # val/test crops are jittered: the face is not always at the same
    # place and size, unlike the plain train crops
    def spread(split):
        lm = [np.array(e['landmarks']) for e in entries
              if e['gt_label'] == 0 and
              e['video_id'] in summary['groups'][split]]
        centres = np.array([(x.min(0) + x.max(0)) / 2 for x in lm])
        return centres.std(0).max() if len(lm) > 1 else 0.0
    jittered = [s for s in ('val', 'test') if summary['faces'][s] > 1]
    assert summary['jitter'] and jittered
    assert max(spread(s) for s in jittered) > 1.0
    assert spread('train') < 1.0


def test_deterministic(built, src, tmp_path, read_tree):
    from mmfocus.faces.demo import build_demo_dataset
    _, out = built
    out2 = str(tmp_path / 'again')
    build_demo_dataset(src, out2, size=112, seed=0, verbose=False)
    first, second = read_tree(out), read_tree(out2)
    assert sorted(first) == sorted(second)
    assert [k for k in first if first[k] != second[k]] == []
    # another seed gives other fakes
    out3 = str(tmp_path / 'seed1')
    build_demo_dataset(src, out3, size=112, seed=1, verbose=False)
    third = read_tree(out3)
    assert any(third.get(k) != v for k, v in first.items()
               if k.startswith('fake/'))


def test_refuses_overwrite_unless_force(built, src, tmp_path, capsys):
    from mmfocus.faces.demo import build_demo_dataset
    tool, _ = built
    out = str(tmp_path / 'demo')
    os.makedirs(out)
    (tmp_path / 'demo' / 'keep.txt').write_text('mine')
    assert tool.main(['--src', src, '--out', out, '--size', '112']) == 1
    assert 'exists' in capsys.readouterr().err
    assert os.listdir(out) == ['keep.txt']
    with pytest.raises(FileExistsError, match='demo'):
        build_demo_dataset(src, out, size=112, verbose=False)
    assert tool.main(['--src', src, '--out', out, '--size', '112',
                      '--force']) == 0
    assert 'keep.txt' not in os.listdir(out)
    assert osp.isfile(osp.join(out, 'train.json'))
    printed = capsys.readouterr().out
    assert 'blank' in printed and 'broken' in printed
    # no temporary folders are left beside the output
    assert sorted(os.listdir(tmp_path)) == ['demo']


def test_missing_source(tmp_path):
    from mmfocus.faces.demo import build_demo_dataset
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build_demo_dataset(str(tmp_path / 'nowhere'), str(tmp_path / 'o'))
