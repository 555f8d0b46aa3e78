import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault('OMP_NUM_THREADS', '2')

import torch  # noqa: E402

torch.set_num_threads(2)


@pytest.fixture(scope='session')
def repo_root():
    return ROOT


@pytest.fixture(scope='session')
def read_tree():
    """``read_tree(root) -> {relative path: bytes}`` of every file below
    ``root``, to compare whole output trees byte for byte."""

    def _read(root):
        files = {}
        for dirpath, _, names in os.walk(root):
            for name in names:
                path = osp.join(dirpath, name)
                with open(path, 'rb') as f:
                    files[osp.relpath(path, root)] = f.read()
        return files

    return _read


@pytest.fixture(autouse=True)
def _mmfocus_scope():
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    yield


DEMO_PHOTOS = ('2008_001009.jpg', '2008_001322.jpg', '2009_004587.jpg',
               '2008_002079.jpg')
DEMO_CHIPS = ('John_Simm', 'John_Savage')


@pytest.fixture(scope='session')
def tiny_demo_data(tmp_path_factory):
    """Demo-format data (real crops + self-blended fakes with masks) built
    from a few of the shipped photos at 64 px."""
    import shutil
    pytest.importorskip('dlib')
    from mmfocus.faces.demo import build_demo_dataset
    src = tmp_path_factory.mktemp('faces_src')
    faces = osp.join(ROOT, 'demo', 'faces')
    os.makedirs(src / 'photos')
    for name in DEMO_PHOTOS:
        shutil.copy(osp.join(faces, 'photos', name), src / 'photos' / name)
    for ident in DEMO_CHIPS:
        shutil.copytree(osp.join(faces, 'chips', ident),
                        src / 'chips' / ident)
    out = str(tmp_path_factory.mktemp('demo') / 'faces')
    build_demo_dataset(str(src), out, size=64, seed=0, verbose=False)
    return out
