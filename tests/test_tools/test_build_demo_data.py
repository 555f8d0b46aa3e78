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
        assert entries and len(entries) == 2 * summary['faces'][split]
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
            assert e['method'] == 'sbi'
            real = cv2.imread(osp.join(out, e['pair_path']))
            mask = cv2.imread(osp.join(out, e['mask_path']),
                              cv2.IMREAD_UNCHANGED)
            assert mask.dtype == np.uint8 and mask.shape == (112, 112)
            assert mask.max() > 0
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
