# Copyright (c) mmfocus contributors.
"""Fixtures: the tiny FF++ tree (see ffpp_fixture.py), a dlib detector, one
full conversion of the tree, a copy of it with the FF++ tool's arguments,
and a simulated kill during a conversion."""
import shutil

import pytest
from ffpp_fixture import CONVERT_KW, METHODS, build_ffpp_tree


@pytest.fixture(scope='session')
def ffpp_tree(tmp_path_factory):
    """(root, split_dir) of the fixture FF++ tree."""
    root = str(tmp_path_factory.mktemp('ffpp_root'))
    return root, build_ffpp_tree(root)


@pytest.fixture(scope='session')
def dlib_det():
    pytest.importorskip('dlib')
    from mmfocus.faces import build_face_detector
    from mmfocus.datasets.converters import DEFAULT_DETECTOR
    return build_face_detector(DEFAULT_DETECTOR)


@pytest.fixture(scope='session')
def ffpp_converted(ffpp_tree, dlib_det, tmp_path_factory):
    """One full conversion of the fixture tree: (summary, out_dir)."""
    from mmfocus.datasets.converters import convert_ffpp
    root, split_dir = ffpp_tree
    out = str(tmp_path_factory.mktemp('ffpp_out'))
    summary = convert_ffpp(root, out, split_dir=split_dir,
                           face_detector=dlib_det, **CONVERT_KW)
    return summary, summary['out_dir']


@pytest.fixture
def ffpp_cli(ffpp_tree, ffpp_converted, tmp_path, load_tool):
    """``(tool, out, args)``: ``tools/dataset_converters/ffpp.py`` loaded,
    a copy of the full conversion in ``out / 'c23'`` and the arguments that
    repeat it there (add ``--merge-only`` etc.)."""
    tool = load_tool('tools/dataset_converters/ffpp.py')
    root, split_dir = ffpp_tree
    out = tmp_path / 'out'
    shutil.copytree(ffpp_converted[1], out / 'c23')
    args = [root, str(out), '--compression', 'c23', '--frames', '4',
            '--methods', *METHODS, '--size', '64', '--real-oversample', '2',
            '--splits', split_dir, '--no-progress']
    return tool, out, args


@pytest.fixture
def kill_at_save(monkeypatch):
    """``kill_at_save(n)``: the converter's ``n``-th crop write raises
    ``KeyboardInterrupt``, as if the process were killed there (until
    ``monkeypatch.undo()``)."""
    from mmfocus.datasets.converters import process
    real_save = process.atomic_save_image

    def arm(n):
        calls = []

        def dying_save(path, img, *args, **kwargs):
            calls.append(path)
            if len(calls) == n:
                raise KeyboardInterrupt('killed')
            return real_save(path, img, *args, **kwargs)

        monkeypatch.setattr(process, 'atomic_save_image', dying_save)

    return arm
