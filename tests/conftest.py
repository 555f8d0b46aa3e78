import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
# tools/run_tests.sh runs 2 pytest-xdist workers on the 2-core CI machine:
# one torch thread each then (two each would oversubscribe the cores)
_THREADS = '1' if os.environ.get('PYTEST_XDIST_WORKER') else '2'
os.environ.setdefault('OMP_NUM_THREADS', _THREADS)

import torch  # noqa: E402

torch.set_num_threads(int(_THREADS))


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


@pytest.fixture(scope='session')
def load_tool():
    """``load_tool('tools/<x>.py') -> module``: a tool script imported as a
    module (a fresh one per call), to call its ``main(argv)`` in-process."""

    def _load(rel_path):
        name = '_tool_' + osp.splitext(rel_path)[0].replace('/', '_')
        spec = importlib.util.spec_from_file_location(
            name, osp.join(ROOT, rel_path))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    return _load


@pytest.fixture
def run_cli(load_tool, capsys):
    """``run_cli('tools/<x>.py', args) -> (returncode, stdout, stderr)``:
    the tool's ``cli_main`` (one-line errors included) in this process,
    its output captured."""
    from mmfocus.utils.cli import cli_main

    def _run(rel_path, args):
        capsys.readouterr()
        try:
            rc = cli_main(load_tool(rel_path).main)(args)
        except SystemExit as e:
            rc = e.code
        out = capsys.readouterr()
        return rc, out.out, out.err

    return _run


@pytest.fixture(scope='session')
def run_tool():
    """``run_tool(args, check=False, timeout=600)``: ``python <args>`` in the
    repo root as a user runs it (the repo on ``PYTHONPATH``, CPU only, one
    thread, no ``MMFOCUS_DEBUG``); returns the ``CompletedProcess``. With
    ``check=True`` a non-zero exit fails the test with the output's tail."""

    def _run(args, check=False, timeout=600):
        env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES='',
                   OMP_NUM_THREADS='1')
        env.pop('MMFOCUS_DEBUG', None)
        proc = subprocess.run([sys.executable] + list(args), cwd=ROOT,
                              env=env, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f'{args} failed ({proc.returncode}):\n'
                f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
        return proc

    return _run


@pytest.fixture(scope='session')
def random_checkpoint(tmp_path_factory):
    """``random_checkpoint(cfg, path=None, prepare=None) -> path``: the model
    of config ``cfg`` with seeded random weights (``prepare(model)`` may
    change them in place first) saved as a runner checkpoint (``meta`` +
    ``state_dict``); by default as ``<config name>.pth`` in a new temporary
    folder."""

    def _save(cfg, path=None, prepare=None):
        from mmfocus.apis import init_model
        if path is None:
            name = osp.splitext(osp.basename(cfg))[0] + '.pth'
            path = str(tmp_path_factory.mktemp('ckpt') / name)
        torch.manual_seed(0)
        model = init_model(cfg)
        if prepare is not None:
            prepare(model)
        torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
        return path

    return _save


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
