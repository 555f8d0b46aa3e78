# Copyright (c) mmfocus contributors.
"""The FF++ converter on a full disk: one ``error: <path>: <cause>`` line
(no traceback), no half-written file, and a rerun with space completes to
the same tree as an uninterrupted conversion. The full disk is
``tests/data/disk_full.py``'s writer: the first write of a Deepfakes crop
gets half its bytes, then ``ENOSPC``."""
import errno
import os
import os.path as osp
import sys

import pytest
from ffpp_fixture import METHODS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tests', 'data'))


def test_full_disk_gives_one_error_line_and_stays_consistent(
        ffpp_tree, ffpp_converted, dlib_det, tmp_path, capsys, monkeypatch,
        read_tree, load_tool):
    import disk_full

    import mmfocus.utils.io as mmfocus_io
    tool = load_tool('tools/dataset_converters/ffpp.py')
    root, split_dir = ffpp_tree
    _, ref = ffpp_converted
    out = tmp_path / 'out'
    argv = [root, str(out), '--compression', 'c23', '--frames', '4',
            '--methods', *METHODS, '--size', '64', '--real-oversample', '2',
            '--splits', split_dir, '--no-progress']
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)
    monkeypatch.setattr(mmfocus_io, 'atomic_write', disk_full.atomic_write)
    monkeypatch.setenv(disk_full.ENV, f'{os.sep}Deepfakes{os.sep}')
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        tool.cli_main(tool.main)(argv)
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith('error: ') and 'Deepfakes' in err[0]
    assert err[0].split(': ')[1].endswith('.png')  # the crop's path
    assert os.strerror(errno.ENOSPC) in err[0]
    c23 = str(out / 'c23')
    assert not [n for _, _, ns in os.walk(c23) for n in ns
                if n.endswith('.tmp')]
    assert not osp.exists(osp.join(c23, 'train.json'))
    monkeypatch.undo()  # space freed
    assert tool.main(argv) == 0
    assert read_tree(c23) == read_tree(ref)
