"""The wheel and ``mim``: configs found by name, the model index in step
with the configs and checkpoints, and a wheel that carries its configs and
tools (mmpretrain's ``.mim`` layout), installed into a fresh venv outside
the repo where ``mim`` runs the tools on the shipped configs."""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest
import yaml

import mmfocus
from mmfocus.utils.config_index import find_config, list_configs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs')


# ----------------------------------------------------------- by-name lookup
def test_find_config_by_path_name_and_file_name(tmp_path):
    want = osp.realpath(osp.join(CONFIGS, 'focus', 'vit-s_ffpp-lq.py'))
    for name in ('configs/focus/vit-s_ffpp-lq.py', 'focus/vit-s_ffpp-lq.py',
                 'focus/vit-s_ffpp-lq', 'vit-s_ffpp-lq.py', 'vit-s_ffpp-lq'):
        assert osp.realpath(find_config(name)) == want, name
    own = tmp_path / 'mine.py'
    own.write_text('x = 1\n')
    assert find_config(str(own)) == str(own)  # a file wins, as given


def test_find_config_errors_name_the_way_out():
    with pytest.raises(FileNotFoundError, match='ambiguous') as e:
        find_config('vit-demo_demo-sbi')
    assert 'focus/vit-demo_demo-sbi.py' in str(e.value)
    assert 'vit/vit-demo_demo-sbi.py' in str(e.value)
    with pytest.raises(FileNotFoundError,
                       match=r"did you mean \['focus/vit-s_ffpp-lq.py'"):
        find_config('focus/vit-s_ffpp-lqq.py')
    with pytest.raises(FileNotFoundError, match='config not found: nope/x$'):
        find_config('nope/x')


def test_list_configs_is_every_config_but_the_bases():
    on_disk = sorted(
        osp.relpath(p, CONFIGS).replace(os.sep, '/')
        for p in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
        if '_base_' not in p.split(os.sep))
    assert list_configs() == on_disk and len(on_disk) > 100
    assert list_configs('focus/vit-s_ffpp-lq*') == [
        n for n in on_disk if n.startswith('focus/vit-s_ffpp-lq')]


def test_get_config_reads_and_overrides():
    cfg = mmfocus.get_config('focus/vit-s_ffpp-lq.py',
                             ['train_cfg.max_iters=7'])
    assert cfg.model.type == 'FoCus' and cfg.train_cfg.max_iters == 7
    assert osp.realpath(cfg.filename) == osp.realpath(
        osp.join(CONFIGS, 'focus', 'vit-s_ffpp-lq.py'))
    with pytest.raises(KeyError, match='unknown config key'):
        mmfocus.get_config('focus/vit-s_ffpp-lq.py', ['train_cfg.max_iter=7'])


def test_tools_take_a_shipped_name(run_cli):
    rc, out, err = run_cli('tools/misc/print_config.py',
                           ['focus/vit-demo_demo-sbi_quick'])
    assert not rc, err
    assert "type='FoCus'" in out and 'max_iters' in out


# --------------------------------------------------------------- the index
def _index():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    models = []
    for rel in imports:
        with open(osp.join(ROOT, rel)) as f:
            doc = yaml.safe_load(f)
        names = {c['Name'] for c in doc['Collections']}
        for m in doc['Models']:
            assert m['In Collection'] in names, m['Name']
            models.append(m)
    return models


@pytest.fixture(scope='module')
def index_tool(load_tool):
    """The generator and what it writes today (built once: it reads every
    config)."""
    tool = load_tool('.dev_scripts/gen_model_index.py')
    return tool, tool.build()


def test_model_index_is_up_to_date(index_tool, monkeypatch):
    tool, files = index_tool
    monkeypatch.setattr(tool, 'build', lambda: files)
    assert tool.main(['--check']) == 0, (
        'run python .dev_scripts/gen_model_index.py and commit the result')


def test_model_index_lists_every_model_config_with_its_checkpoint():
    from mmfocus.utils.config import read_config_file
    models = _index()
    by_config = {m['Config']: m for m in models}
    assert len(by_config) == len(models)  # one entry per config
    assert len({m['Name'] for m in models}) == len(models)
    for rel in list_configs():
        has_model = bool(read_config_file(osp.join(CONFIGS, rel)).get('model'))
        assert (f'configs/{rel}' in by_config) == has_model, rel
    shipped = set()
    for m in models:
        meta = m['Metadata']
        folder, stem = m['Config'][len('configs/'):-3].split('/', 1)
        assert meta['Checkpoint'] == f'checkpoints/{folder}_{stem}.pth'
        path = osp.join(ROOT, meta['Checkpoint'])
        assert meta['Checkpoint Shipped'] == osp.isfile(path), m['Name']
        if osp.isfile(path):
            shipped.add(meta['Checkpoint'])
            with open(path, 'rb') as f:
                assert hashlib.sha256(f.read()).hexdigest() == \
                    meta['Checkpoint SHA256']
            assert meta['Checkpoint Size'] == osp.getsize(path)
    assert shipped == {
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'checkpoints', '*.pth'))
        if osp.basename(p)[:-4] in {m['Name'] for m in models}}
    assert 'checkpoints/focus_vit-demo_demo-sbi.pth' in shipped


def test_model_index_flops_are_the_counted_ones(load_tool):
    """The FLOPs and parameters the index states are what get_flops counts
    (one count per distinct model; equal models share their figures)."""
    import torch

    from mmfocus.analysis.flops import build_dummy_inputs, count_flops
    from mmfocus.utils.config import read_config_file
    tool = load_tool('tools/analysis/get_flops.py')
    stated = [m for m in _index() if 'FLOPs' in m['Metadata']]
    assert len(stated) >= 3
    counted = {}
    for m in stated:
        model_cfg = read_config_file(osp.join(ROOT, m['Config'])).model
        key = json.dumps(model_cfg.to_dict(), sort_keys=True, default=str)
        if key not in counted:
            model = tool.build_model_from_config(osp.join(ROOT, m['Config']))
            model.eval()
            with torch.no_grad():
                res = count_flops(model, build_dummy_inputs(model, None))
            counted[key] = (res['flops'], res['params'])
        assert counted[key] == (m['Metadata']['FLOPs'],
                                m['Metadata']['Parameters']), m['Name']


def test_model_index_check_fails_on_a_stale_file(index_tool, monkeypatch,
                                                 capsys):
    tool, files = index_tool
    stale = 'configs/focus/metafile.yml'
    changed = files[stale].replace('Iterations: 3000', 'Iterations: 3001')
    assert changed != files[stale]
    monkeypatch.setattr(tool, 'build', lambda: {**files, stale: changed})
    assert tool.main(['--check']) == 1
    assert stale in capsys.readouterr().out


# --------------------------------------------------------------- the wheel
def _tracked_copy(dst):
    """The files of the checkout (tracked or not ignored), as a fresh clone
    would have them."""
    out = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others',
         '--exclude-standard'],
        cwd=ROOT, capture_output=True, check=True).stdout
    for rel in out.decode().split('\0'):
        if not rel or not osp.isfile(osp.join(ROOT, rel)):
            continue
        os.makedirs(osp.join(dst, osp.dirname(rel)), exist_ok=True)
        shutil.copy2(osp.join(ROOT, rel), osp.join(dst, rel))


@pytest.fixture(scope='module')
def wheel_venv(tmp_path_factory):
    """Build the wheel from a copy of the checkout; install it, without
    dependencies and offline, into a fresh venv that sees this
    environment's packages through a ``.pth`` line (but not its editable
    mmfocus: a plain path line runs none of that folder's ``.pth`` files).
    """
    if shutil.which('git') is None:
        pytest.skip('git is needed to copy the checkout')
    base = tmp_path_factory.mktemp('wheel')
    src, dist, venv = base / 'src', base / 'dist', base / 'venv'
    _tracked_copy(str(src))
    env = dict(os.environ, PIP_NO_INDEX='1', PIP_DISABLE_PIP_VERSION_CHECK='1')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '.', '--no-deps',
                    '--no-build-isolation', '-q', '-w', str(dist)],
                   cwd=src, env=env, check=True, capture_output=True)
    wheels = glob.glob(str(dist / 'mmfocus-*.whl'))
    assert len(wheels) == 1, wheels
    assert not osp.exists(src / 'mmfocus' / '.mim')  # source tree untouched
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True,
                   capture_output=True)
    py = str(venv / 'bin' / 'python')
    site = subprocess.run(
        [py, '-c',
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    with open(osp.join(site, '_mmfocus_test_deps.pth'), 'w') as f:
        f.write(sysconfig.get_paths()['purelib'] + '\n')
    subprocess.run([py, '-m', 'pip', 'install', '--no-deps', '-q', wheels[0]],
                   env=env, check=True, capture_output=True)
    return dict(wheel=wheels[0], python=py, site=site, base=base)


def _run_outside(wheel_venv, args, cwd, timeout=300):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1')
    env.pop('PYTHONPATH', None)
    proc = subprocess.run([wheel_venv['python']] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
        f'{proc.stderr[-3000:]}')
    return proc.stdout


def test_wheel_carries_configs_tools_and_index(wheel_venv):
    with zipfile.ZipFile(wheel_venv['wheel']) as z:
        names = set(z.namelist())
    mim = 'mmfocus/.mim/'
    for rel in list_configs():
        assert f'{mim}configs/{rel}' in names, rel
    for rel in glob.glob(osp.join(CONFIGS, '**', 'metafile.yml'),
                         recursive=True) + glob.glob(
            osp.join(CONFIGS, '_base_', '**', '*.py'), recursive=True):
        assert mim + osp.relpath(rel, ROOT) in names, rel
    for tool in ('train.py', 'test.py', 'dist_train.sh', 'infer.py',
                 'analysis/get_flops.py', 'experiments/map_protocol.py'):
        assert f'{mim}tools/{tool}' in names, tool
    assert f'{mim}model-index.yml' in names
    assert 'mmfocus/app/static/index.html' in names
    assert any(n.endswith('.dist-info/licenses/LICENSE')
               or n.endswith('.dist-info/LICENSE') for n in names)
    assert not any('__pycache__' in n or n.endswith('.pth') for n in names)


def test_installed_wheel_finds_its_configs_and_mim_runs_a_tool(
        wheel_venv, tmp_path, run_tool):
    # outside the repo, mmfocus and its configs come from the venv
    out = _run_outside(wheel_venv, ['-c', (
        'import mmfocus, json; print(json.dumps([mmfocus.__file__, '
        "mmfocus.find_config('focus/vit-s_ffpp-lq'), "
        "len(mmfocus.list_configs())]))")], cwd=tmp_path)
    pkg, cfg, n = json.loads(out.strip().splitlines()[-1])
    assert pkg.startswith(wheel_venv['site'])
    assert cfg == osp.join(wheel_venv['site'], 'mmfocus', '.mim', 'configs',
                           'focus', 'vit-s_ffpp-lq.py')
    assert n == len(list_configs())

    # mim's model search reads the wheel's model-index.yml
    out = _run_outside(wheel_venv, ['-m', 'mim', 'search', 'mmfocus',
                                    '--valid-config'], cwd=tmp_path)
    for m in _index():
        assert f"'{m['Name']}'" in out, m['Name']

    # mim runs the wheel's tool on a config found by name; the FLOPs equal
    # the checkout's own count
    _run_outside(wheel_venv, [
        '-m', 'mim', 'run', 'mmfocus', 'get_flops',
        'focus/vit-demo_demo-sbi.py', '--out', 'mim.json'], cwd=tmp_path)
    run_tool(['tools/analysis/get_flops.py',
              'configs/focus/vit-demo_demo-sbi.py',
              '--out', str(tmp_path / 'repo.json')], check=True)
    with open(tmp_path / 'mim.json') as f:
        got = json.load(f)
    with open(tmp_path / 'repo.json') as f:
        want = json.load(f)
    assert got['flops'] == want['flops'] > 0
    assert got['params'] == want['params'] > 0
    # ... and the model index's figures
    [entry] = [m for m in _index() if m['Name'] == 'focus_vit-demo_demo-sbi']
    assert entry['Metadata']['FLOPs'] == want['flops']
    assert entry['Metadata']['Parameters'] == want['params']


def test_mim_test_and_train_outside_the_repo(wheel_venv, tmp_path, run_tool,
                                            tiny_demo_data):
    """``mim test`` from a folder outside the repo (its ``data/demo_faces``
    the tiny demo data) scores every face as the checkout's tools/test.py
    does; ``mim train`` trains there."""
    ckpt = osp.join(ROOT, 'checkpoints', 'focus_vit-demo_demo-sbi.pth')
    os.makedirs(tmp_path / 'data')
    os.symlink(tiny_demo_data, tmp_path / 'data' / 'demo_faces')
    _run_outside(wheel_venv, [
        '-m', 'mim', 'test', 'mmfocus', 'vit-demo_demo-sbi_quick.py',
        '--checkpoint', ckpt, '--work-dir', 'work_dirs/mim_test',
        '--no-maps', '--no-vis', '--out', 'mim_preds.json'], cwd=tmp_path)
    run_tool(['tools/test.py', 'configs/focus/vit-demo_demo-sbi_quick.py',
              ckpt, '--work-dir', str(tmp_path / 'repo_test'), '--no-maps',
              '--no-vis', '--out', str(tmp_path / 'repo_preds.json'),
              '--cfg-options',
              f'test_dataloader.dataset.data_root={tiny_demo_data}'],
             check=True)
    with open(tmp_path / 'mim_preds.json') as f:
        got = json.load(f)
    with open(tmp_path / 'repo_preds.json') as f:
        want = json.load(f)
    assert len(got) == len(want) > 0

    def rel(preds, root):  # the same files, under either data root
        out = []
        for p in preds:
            p = dict(p)
            for k in ('img_path', 'mask_path'):
                if p.get(k):  # relative to the run's folder, or absolute
                    p[k] = osp.relpath(osp.join(tmp_path, p[k]), root)
            out.append(p)
        return out

    assert rel(got, str(tmp_path / 'data' / 'demo_faces')) == rel(
        want, tiny_demo_data)

    # mim train runs the wheel's tools/train.py the same way (2 iterations)
    _run_outside(wheel_venv, [
        '-m', 'mim', 'train', 'mmfocus', 'vit-demo_demo-sbi_quick.py',
        '--work-dir', 'work_dirs/mim_train', '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'default_hooks.checkpoint.interval=2'], cwd=tmp_path)
    assert osp.isfile(tmp_path / 'work_dirs' / 'mim_train' / 'iter_2.pth')

