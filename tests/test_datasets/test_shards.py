"""Packed shards of decoded faces and masks (mmfocus.datasets.shards): the
same arrays as decoding the PNGs, one shape per shard, clear errors for
missing / truncated / corrupt shards and bad indices, atomic packing, no
silent overwrite, DataLoader workers (fork) and paired self-blending, the
pack tool and the converters' --pack-shards."""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch

from mmfocus.datasets import FaceForgeryDataset, shards
from mmfocus.datasets.shards import (pack_annotation, read_shard_item,
                                     verify_shards)
from mmfocus.datasets.transforms import LoadFace, LoadManipulationMask

LOAD = [dict(type='LoadFace'), dict(type='LoadManipulationMask')]


@pytest.fixture(scope='module')
def packed_demo(tiny_demo_data, tmp_path_factory):
    """The tiny demo data's train and test annotations packed, 16 faces per
    shard: (data_root, packed folder)."""
    out = str(tmp_path_factory.mktemp('packed'))
    for split in ('train', 'test'):
        pack_annotation(osp.join(tiny_demo_data, f'{split}.json'), out,
                        faces_per_shard=16)
    return tiny_demo_data, out


def _pair(root, out, split='test', **kw):
    png = FaceForgeryDataset(ann_file=f'{split}.json', data_root=root, **kw)
    packed = FaceForgeryDataset(ann_file=f'{split}.json', data_root=out, **kw)
    return png, packed


def _entry(ds, i):
    return ds.get_data_info(i)


def test_faces_and_masks_equal_the_png_decode(packed_demo):
    root, out = packed_demo
    png, packed = _pair(root, out, pipeline=LOAD, test_mode=True)
    assert len(png) == len(packed)
    n_masks = 0
    for i in range(len(png)):
        a, b = png[i], packed[i]
        assert b['img_shard'] and a['img_path'] == osp.normpath(b['img_path'])
        assert a['img'].dtype == b['img'].dtype == np.uint8
        np.testing.assert_array_equal(a['img'], b['img'])
        np.testing.assert_array_equal(a['gt_mask'], b['gt_mask'])
        assert a['has_mask'] == b['has_mask']
        if a['mask_path']:
            n_masks += 1
            assert b['mask_path'] and b['mask_shard']
            raw = cv2.imread(a['mask_path'], cv2.IMREAD_UNCHANGED)
            m = read_shard_item(b['mask_shard'], b['mask_shard_index'],
                                'masks')
            assert m.dtype == raw.dtype and np.array_equal(m, raw)
        else:
            assert b['mask_shard'] is None
    assert n_masks > 0
    # the packed annotation keeps every field; pair paths still resolve
    info = next(_entry(packed, i) for i in range(len(packed))
                if _entry(packed, i)['pair_path'])
    assert osp.isfile(info['pair_path'])
    man = json.load(open(osp.join(out, 'test.shards.json')))
    assert man['faces'] == len({_entry(png, i)['img_path']
                                for i in range(len(png))})
    assert all(r['count'] <= 16 for r in man['shards'])
    assert packed.metainfo['shards']['manifest'] == 'test.shards.json'
    verify_shards(osp.join(out, 'test.shards.json'), checksum=True)


def _write_faces(tmp_path):
    """Faces of two sizes, masks uint8, uint16 and 3-channel, a face
    listed twice."""
    rng = np.random.default_rng(0)
    entries = []
    for i, (h, w) in enumerate([(16, 16), (24, 20), (16, 16), (24, 20),
                                (16, 16)]):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / f'f{i}.png'), img)
        e = dict(img_path=f'f{i}.png', gt_label=int(i > 0))
        if i == 1:
            m = rng.integers(0, 65536, (h, w), dtype=np.uint16)
        elif i == 2:
            m = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        else:
            m = rng.integers(0, 256, (h, w), dtype=np.uint8)
        if i:
            cv2.imwrite(str(tmp_path / f'm{i}.png'), m)
            e['mask_path'] = f'm{i}.png'
        entries.append(e)
    entries.append(dict(entries[0]))  # the same file twice: stored once
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(dict(metainfo=dict(classes=['real', 'fake']),
                                   data_list=entries)))
    return str(ann)


def test_mixed_sizes_and_dtypes_go_to_separate_shards(tmp_path):
    ann = _write_faces(tmp_path)
    out = tmp_path / 'out'
    s = pack_annotation(ann, str(out), faces_per_shard=2)
    assert s['faces'] == 5 and s['masks'] == 4 and s['entries'] == 6
    man = json.load(open(out / 'ann.shards.json'))
    shapes = {r['file']: (r['kind'], tuple(r['shape']), r['dtype'])
              for r in man['shards']}
    assert shapes == {
        'ann.faces.00000.npy': ('faces', (2, 16, 16, 3), 'uint8'),
        'ann.faces.00001.npy': ('faces', (2, 24, 20, 3), 'uint8'),
        'ann.faces.00002.npy': ('faces', (1, 16, 16, 3), 'uint8'),
        # uint16 masks keep their 16 bits: no precision is lost
        'ann.masks.00000.npy': ('masks', (1, 24, 20), 'uint16'),
        'ann.masks.00001.npy': ('masks', (2, 16, 16), 'uint8'),
        'ann.masks.00002.npy': ('masks', (1, 24, 20), 'uint8'),
    }
    data = json.load(open(out / 'ann.json'))['data_list']
    assert data[5]['img_shard'] == data[0]['img_shard'] and \
        data[5]['img_shard_index'] == data[0]['img_shard_index']
    assert data[0]['img_path'] == '../f0.png'  # relative to the output
    for e in data:
        ref = dict(img_path=str(tmp_path / e['img_path'][3:]))
        got = dict(img_shard=str(out / e['img_shard']),
                   img_shard_index=e['img_shard_index'])
        a, b = LoadFace()(dict(ref)), LoadFace()(got)
        np.testing.assert_array_equal(a['img'], b['img'])
        if e.get('mask_path'):
            a['mask_path'] = str(tmp_path / e['mask_path'][3:])
            b.update(mask_shard=str(out / e['mask_shard']),
                     mask_shard_index=e['mask_shard_index'])
        ma = LoadManipulationMask()(a)['gt_mask']
        mb = LoadManipulationMask()(b)['gt_mask']
        np.testing.assert_array_equal(ma, mb)


def test_bad_shards_give_errors_naming_the_file(tmp_path):
    ann = _write_faces(tmp_path)
    out = tmp_path / 'out'
    pack_annotation(ann, str(out), faces_per_shard=2)
    shard = str(out / 'ann.faces.00000.npy')
    with pytest.raises(IndexError, match='ann.faces.00000.npy: index 2 out '
                       'of range'):
        read_shard_item(shard, 2)
    with pytest.raises(IndexError, match='must be an integer'):
        LoadFace()(dict(img_shard=shard, img_shard_index=None))
    with pytest.raises(ValueError, match=r'ann.masks.00001.npy: a faces '
                       r'shard must be \(N, H, W, 3\) uint8, got shape'):
        read_shard_item(str(out / 'ann.masks.00001.npy'), 0, 'faces')
    with pytest.raises(FileNotFoundError, match='nope.npy'):
        read_shard_item(str(out / 'nope.npy'), 0)

    def dataset():
        return FaceForgeryDataset(ann_file='ann.json', data_root=str(out))

    assert len(dataset()) == 6
    raw = open(shard, 'rb').read()
    open(shard, 'wb').write(raw[:-7])  # truncated
    with pytest.raises(ValueError, match='corrupt or truncated shard .*'
                       'ann.faces.00000.npy'):
        read_shard_item(shard, 0)
    with pytest.raises(ValueError, match='truncated or corrupt shard .*'
                       'ann.faces.00000.npy'):
        dataset()  # check_files: the manifest's size
    bad = bytearray(raw)
    bad[-1] ^= 0xFF  # same size, one flipped byte: only the sha256 sees it
    open(shard, 'wb').write(bytes(bad))
    verify_shards(str(out / 'ann.shards.json'))
    with pytest.raises(ValueError, match='corrupt shard .*ann.faces.00000'):
        verify_shards(str(out / 'ann.shards.json'), checksum=True)
    os.remove(shard)
    with pytest.raises(FileNotFoundError, match='1 of 6 annotated files '
                       r'are missing \(img_path / mask_path / shards\), e.g. '
                       '.*ann.faces.00000.npy'):
        dataset()
    with pytest.raises(FileNotFoundError, match='faces shard not found: .*'
                       'ann.faces.00000.npy'):
        LoadFace()(dict(img_shard=shard, img_shard_index=0))
    # check_files looks at the shards, not the PNGs
    for name in os.listdir(tmp_path):
        if name.endswith('.png'):
            os.remove(tmp_path / name)
    os.remove(out / 'ann.shards.json')
    shutil.copy(out / 'ann.faces.00002.npy', shard)  # a shard is back
    with pytest.raises(FileNotFoundError, match='shard manifest not found'):
        dataset()


def test_refuses_to_overwrite_and_replaces_when_asked(tmp_path, read_tree):
    ann = _write_faces(tmp_path)
    out = tmp_path / 'out'
    pack_annotation(ann, str(out), faces_per_shard=1)
    before = read_tree(str(out))
    assert sum(n.endswith('.npy') for n in before) == 9
    with pytest.raises(FileExistsError, match='refusing to overwrite .*'
                       '--overwrite'):
        pack_annotation(ann, str(out))
    assert read_tree(str(out)) == before
    pack_annotation(ann, str(out), faces_per_shard=4096, overwrite=True)
    names = sorted(os.listdir(out))  # the stale shards are gone
    assert names == ['ann.faces.00000.npy', 'ann.faces.00001.npy',
                     'ann.json', 'ann.masks.00000.npy',
                     'ann.masks.00001.npy', 'ann.masks.00002.npy',
                     'ann.shards.json']
    with pytest.raises(ValueError, match='replace the source annotation'):
        pack_annotation(ann, str(tmp_path), overwrite=True)
    with pytest.raises(ValueError, match='already packed'):
        pack_annotation(str(out / 'ann.json'), str(tmp_path / 'again'))


@pytest.mark.parametrize('fail_at', ['decode', 'write'])
def test_a_failed_pack_leaves_no_file(tmp_path, monkeypatch, read_tree,
                                      fail_at):
    ann = _write_faces(tmp_path)
    out = tmp_path / 'out'
    pack_annotation(ann, str(out), faces_per_shard=1)
    before = read_tree(str(out))
    calls = []
    real = (shards._decode if fail_at == 'decode'
            else shards._ShardBuffer.write)

    def dying(*args):
        calls.append(1)
        if len(calls) == 4:  # mid-way: some shards are already complete
            raise OSError(28, 'No space left on device')
        return real(*args)

    if fail_at == 'decode':
        monkeypatch.setattr(shards, '_decode', dying)
    else:
        monkeypatch.setattr(shards._ShardBuffer, 'write', dying)
    with pytest.raises(OSError, match='No space'):
        pack_annotation(ann, str(out), faces_per_shard=1, overwrite=True)
    assert read_tree(str(out)) == before  # the earlier pack is untouched
    calls.clear()
    with pytest.raises(OSError):
        pack_annotation(ann, str(tmp_path / 'new'), faces_per_shard=1)
    assert os.listdir(tmp_path / 'new') == []  # no shard, no staging dir


def _loader_samples(ds, workers):
    loader = torch.utils.data.DataLoader(
        ds, batch_size=4, num_workers=workers, collate_fn=lambda b: b,
        generator=torch.Generator().manual_seed(0))
    return [s for batch in loader for s in batch]


def _same(a, b):
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert torch.equal(a['inputs'], b['inputs'])
    for key in ('gt_label', 'gt_mask'):
        assert torch.equal(getattr(a['data_samples'], key),
                           getattr(b['data_samples'], key))


def test_dataloader_workers_and_paired_self_blend_match_png(packed_demo):
    root, out = packed_demo
    pipeline = [
        dict(type='LoadFace'), dict(type='LoadManipulationMask'),
        dict(type='SelfBlend', prob=0.5),
        dict(type='RandomAffineFace', max_rotate=8, prob=0.8),
        dict(type='ResizeFace', scale=32),
        dict(type='RandomFaceFlip', prob=0.5),
        dict(type='PackFaceInputs')]
    png, packed = _pair(root, out, 'train', methods=(),
                        paired_self_blend=True, pipeline=pipeline)
    packed[0]  # the parent maps a shard before the workers fork
    assert shards._OPEN
    a, b = _loader_samples(png, 2), _loader_samples(packed, 2)
    assert len(a) == len(png) and isinstance(a[0], list)
    _same(a, b)
    plain = dict(pipeline=[pipeline[0], pipeline[1], pipeline[4],
                           pipeline[6]], test_mode=True)
    png, packed = _pair(root, out, 'test', **plain)
    _same(_loader_samples(png, 2), _loader_samples(packed, 2))


def test_pack_tool(tmp_path, run_cli):
    ann = _write_faces(tmp_path)
    out = str(tmp_path / 'out')
    tool = 'tools/dataset_converters/pack_shards.py'
    rc, text, _ = run_cli(tool, [ann, '--out-dir', out, '--faces-per-shard',
                                 '2', '--data-root', str(tmp_path),
                                 '--no-progress'])
    assert rc == 0 and '6 entries, 5 faces + 4 masks in 6 shards' in text
    rc, _, err = run_cli(tool, [ann, '--out-dir', out])
    assert rc == 1 and err.startswith('error:') and 'refusing to ' \
        'overwrite' in err
    rc, text, _ = run_cli(tool, [ann, '--out-dir', out, '--overwrite',
                                 '--no-progress'])
    assert rc == 0 and 'in 5 shards' in text
    packed = osp.join(out, 'ann.json')
    rc, text, _ = run_cli(tool, [packed, '--verify'])
    assert rc == 0 and '5 shards' in text and 'verified' in text
    with open(osp.join(out, 'ann.masks.00000.npy'), 'r+b') as f:
        f.seek(-1, 2)
        f.write(b'\x01' if f.read(1) != b'\x01' else b'\x02')
    rc, _, err = run_cli(tool, [packed, '--verify'])
    assert rc == 1 and 'corrupt shard' in err and 'ann.masks.00000' in err
    rc, _, err = run_cli(tool, [ann, '--verify'])
    assert rc == 1 and 'not a packed annotation' in err
