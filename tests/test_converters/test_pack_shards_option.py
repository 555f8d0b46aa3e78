"""The converters' ``--pack-shards``: the written annotations are also
packed (mmfocus.datasets.shards) into ``<out>/packed``, whose datasets load
the same faces and masks as the PNG ones."""
import json
import os.path as osp

import numpy as np
import pytest

from mmfocus.datasets import FaceForgeryDataset

pytest.importorskip('dlib')

LOAD = [dict(type='LoadFace'), dict(type='LoadManipulationMask')]


def test_pack_shards_option(ffpp_cli, capsys):
    tool, out, base = ffpp_cli
    assert tool.main(base + ['--merge-only', '--pack-shards',
                             '--faces-per-shard', '8']) == 0
    text = capsys.readouterr().out
    data = str(out / 'c23')
    masks = 0
    for split in ('train', 'val', 'test'):
        assert f'packed {split}:' in text
        assert osp.isfile(osp.join(data, 'packed', f'{split}.shards.json'))
        if not json.load(open(osp.join(data, f'{split}.json')))['data_list']:
            continue  # the fixture's val split is empty
        png = FaceForgeryDataset(ann_file=f'{split}.json', data_root=data,
                                 pipeline=LOAD, test_mode=True)
        packed = FaceForgeryDataset(ann_file=f'{split}.json',
                                    data_root=osp.join(data, 'packed'),
                                    pipeline=LOAD, test_mode=True)
        assert len(png) == len(packed) > 0
        for i in range(len(png)):
            a, b = png[i], packed[i]
            assert b['img_shard'].endswith('.npy')
            np.testing.assert_array_equal(a['img'], b['img'])
            np.testing.assert_array_equal(a['gt_mask'], b['gt_mask'])
            masks += bool(b.get('mask_shard'))
    assert masks > 0
    # a rerun repacks (the annotations are rewritten too)
    assert tool.main(base + ['--merge-only', '--pack-shards']) == 0
    main = tool.cli_main(tool.main)
    with pytest.raises(SystemExit) as exc:
        main(base + ['--pack-shards', '--clips', '2', '--clip-len', '2'])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith('error:') and 'clip mode' in err
