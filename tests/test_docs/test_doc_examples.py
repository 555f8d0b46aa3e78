"""The advanced guides' examples run as written.

Each guide's Python blocks that start with ``# my_project/<file>.py`` are
written to that file in a scratch directory (with ``configs/`` linked and a
copy of the tiny demo data as ``data/demo_faces``); its other Python blocks
are executed in order, and its ``python tools/...`` commands are run (a
training is cut to two iterations of the tiny ViT: extra
``--cfg-options``). The results are checked against independent
computations (skimage). The FAQ's console transcript is checked too.
"""
import os
import os.path as osp
import re
import runpy
import shutil
import sys

import cv2
import numpy as np
import pytest

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from doc_extract import ROOT, commands_in, python_blocks  # noqa: E402

GUIDES = 'docs/en/advanced_guides'
FILE_MARK = re.compile(r'^# (my_project/[\w.-]+\.py)\n')
TINY_TRAIN = ['train_cfg.max_iters=2', 'train_cfg.val_interval=100',
              'train_dataloader.batch_size=4',
              'train_dataloader.num_workers=0',
              'train_dataloader.persistent_workers=False',
              'default_hooks.checkpoint.interval=2',
              'custom_hooks=[]']  # no FLOPs profile / map dump: seconds


@pytest.fixture
def workspace(tmp_path, tiny_demo_data, monkeypatch):
    ws = tmp_path / 'ws'
    (ws / 'data').mkdir(parents=True)
    os.symlink(osp.join(ROOT, 'configs'), ws / 'configs')
    shutil.copytree(tiny_demo_data, ws / 'data' / 'demo_faces')
    monkeypatch.chdir(ws)
    monkeypatch.syspath_prepend(str(ws))
    yield ws
    for name in list(sys.modules):  # the next guide imports its own
        if name == 'my_project' or name.startswith('my_project.'):
            del sys.modules[name]


def _write_files(page, ws):
    n = 0
    for block in python_blocks(page):
        m = FILE_MARK.match(block.text + '\n')
        if m:
            dst = ws / m.group(1)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(block.text + '\n')
            n += 1
    assert n, f'{page}: no "# my_project/..." file block'


def _exec_examples(page, capsys):
    """Run the page's non-file Python blocks in one namespace."""
    ns = {'__name__': '__doc_example__'}
    for block in python_blocks(page):
        if FILE_MARK.match(block.text + '\n'):
            continue
        code = compile(block.text, f'{page}:{block.line}', 'exec')
        exec(code, ns)
    return ns, capsys.readouterr().out


def _run_commands(page, monkeypatch, capsys):
    """Run the page's ``python tools/...`` commands; ``{key: stdout}``."""
    outs = {}
    for c in commands_in(page):
        assert c.key.startswith('tools/'), (c.where, c.key)
        args = c.argv[c.argv.index(c.key) + 1:]
        if c.key == 'tools/train.py':
            if '--cfg-options' in args:
                k = args.index('--cfg-options') + 1
                args[k:k] = TINY_TRAIN
            else:
                args += ['--cfg-options'] + TINY_TRAIN
            if 'configs/focus' in open(args[0]).read() or \
                    'focus' in osp.basename(args[0]):
                args += ['model.backbone.arch=test']
        monkeypatch.setattr(sys, 'argv', [c.key] + args)
        capsys.readouterr()
        try:
            runpy.run_path(osp.join(ROOT, c.key), run_name='__main__')
            code = 0
        except SystemExit as e:
            code = e.code or 0
        out = capsys.readouterr()
        assert code == 0, f'{c.where}: `{c.text}`:\n{out.err[-3000:]}'
        outs.setdefault(c.key, []).append(out.out)
    return outs


def test_add_a_transform(workspace, monkeypatch, capsys):
    from skimage.exposure import adjust_gamma
    page = f'{GUIDES}/add_transforms.md'
    _write_files(page, workspace)
    outs = _run_commands(page, monkeypatch, capsys)
    assert "type='RandomGamma'" in outs['tools/misc/print_config.py'][0]
    assert osp.isfile('work_dirs/focus_gamma/iter_2.pth')
    ns, printed = _exec_examples(page, capsys)
    assert '2.0 uint8' in printed
    out = ns['out']
    img = cv2.imread(ns['dataset'].get_data_info(0)['img_path'])
    ref = adjust_gamma(img, 2.0)  # skimage
    assert np.abs(out['img'].astype(int) - ref.astype(int)).max() <= 1
    assert not np.array_equal(out['img'], img)
    # a bad argument fails when the config is built
    from mmfocus.registry import TRANSFORMS
    with pytest.raises(ValueError, match='gamma_range'):
        TRANSFORMS.build(dict(type='RandomGamma', gamma_range=(0, 1)))


def test_add_a_backbone(workspace, monkeypatch, capsys):
    import torch.nn as nn
    page = f'{GUIDES}/add_models.md'
    _write_files(page, workspace)
    outs = _run_commands(page, monkeypatch, capsys)
    assert "type='ConvStemViT'" in outs['tools/misc/print_config.py'][0]
    assert 'FLOPs' in outs['tools/analysis/get_flops.py'][0]
    assert osp.isfile('work_dirs/focus_conv-stem/iter_2.pth')
    ns, printed = _exec_examples(page, capsys)
    assert '(2, 64, 128) (2, 128)' in printed
    bb = ns['backbone']
    convs = [m for m in bb.patch_embed.proj if isinstance(m, nn.Conv2d)]
    # patch 8 = three stride-2 3x3 convs, then the 1x1 projection
    assert [m.stride for m in convs] == [(2, 2)] * 3 + [(1, 1)]
    assert all(type(b).__name__ == 'ConvStemViT'
               for b in ns['model'].backbones.values())


def test_add_a_map_source(workspace, monkeypatch, capsys, request):
    import json

    from skimage.color import deltaE_cie76, rgb2lab

    from mmfocus.registry import MAP_SOURCES

    # the page registers 'labdiff': take it out of the registry again for
    # the later tests of this process (test_sources lists every source)
    request.addfinalizer(
        lambda: MAP_SOURCES._module_dict.pop('labdiff', None))
    page = f'{GUIDES}/add_map_sources.md'
    _write_files(page, workspace)
    ns, printed = _exec_examples(page, capsys)
    assert 'data/demo_faces/train_maps-labdiff.json' in printed
    root = 'data/demo_faces'
    with open(osp.join(root, 'train.json')) as f:
        src = json.load(f)['data_list']
    with open(ns['out_ann']) as f:
        ann = json.load(f)
    assert ann['metainfo']['target_maps']['source'] == 'labdiff'
    fakes = [e for e in ann['data_list'] if e['mask_path']]
    assert len(ann['data_list']) == len(src)
    assert len(fakes) == sum(1 for e in src
                             if e['gt_label'] == 1 and e.get('pair_path'))
    assert all(e['gt_label'] == 1 for e in fakes)
    if not fakes:  # the demo train split has reals only (online SBI)
        pytest.skip('no fake with a twin in the tiny train split')
    for e in fakes[:3]:
        fake = cv2.imread(osp.join(root, e['img_path']))[..., ::-1]
        real = cv2.imread(osp.join(root, e['pair_path']))[..., ::-1]
        ref = np.clip(deltaE_cie76(rgb2lab(fake), rgb2lab(real)) / 100, 0, 1)
        got = cv2.imread(osp.join(root, e['mask_path']),
                         cv2.IMREAD_UNCHANGED) / 255.
        assert np.abs(got - ref).max() < 0.02
    outs = _run_commands(page, monkeypatch, capsys)
    assert osp.isfile('work_dirs/efb0_labdiff/iter_2.pth')
    del outs


def test_faq_registry_scope_message(tmp_path, monkeypatch, capsys):
    """The FAQ's console transcript: the command gives the shown line."""
    from doc_extract import fenced_blocks
    page = 'docs/en/faq.md'
    [c] = [c for c in commands_in(page) if c.key == 'tools/test.py']
    block = next(b for b in fenced_blocks(osp.join(ROOT, page))
                 if b.lang == 'console' and 'default_scope' in b.text)
    expected = next(ln for ln in block.text.splitlines()
                    if ln.startswith('error:'))
    for name in ('configs', 'checkpoints'):  # work_dirs/ goes to tmp_path
        os.symlink(osp.join(ROOT, name), tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, 'argv', c.argv[1:])
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)
    with pytest.raises(SystemExit) as e:
        runpy.run_path(osp.join(ROOT, c.key), run_name='__main__')
    assert e.value.code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == expected


def _faq_lines(prefix):
    """The FAQ's message lines starting with ``prefix``, each cut at its
    ``...`` (the rest of the message is left out in the FAQ)."""
    from doc_extract import fenced_blocks
    out = []
    for b in fenced_blocks(osp.join(ROOT, 'docs/en/faq.md')):
        if b.lang != 'text':
            continue
        for ln in b.text.splitlines():
            if ln.startswith(prefix):
                out.append(ln.split(' ...')[0].rstrip("'"))
    assert out, prefix
    return out


def _python(code):
    """stderr + stdout of ``python -c code`` in a fresh process without
    mmfocus on the path (as a user's own script)."""
    import subprocess
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run([sys.executable, '-c', code], cwd=HERE, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc.stdout + proc.stderr


def test_faq_messages_are_the_real_ones(tmp_path, monkeypatch):
    """Each error message quoted in docs/en/faq.md is what the stack gives."""
    import importlib.util

    import torch

    # mmcv._ext: mmseg.models imported without mmfocus
    [ext] = _faq_lines('ModuleNotFoundError: No module named \'mmcv')
    assert ext in _python('import mmseg.models')

    # scope prefixes
    from mmfocus.registry import MODELS
    [scope] = _faq_lines('KeyError: \'EfficientNet')
    with pytest.raises(KeyError) as e:
        MODELS.build(dict(type='EfficientNet', arch='b0'))
    assert f'KeyError: {e.value}'.startswith(scope)

    # dlib and its landmark models missing
    from mmfocus.faces import DlibDetector
    dlib_msg, models_msg = _faq_lines('ImportError: ')
    monkeypatch.setitem(sys.modules, 'dlib', None)
    with pytest.raises(ImportError) as e:
        DlibDetector()
    assert f'ImportError: {e.value}' == dlib_msg
    monkeypatch.undo()
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec', lambda name, *a: None
        if name == 'face_recognition_models' else find_spec(name, *a))
    with pytest.raises(ImportError) as e:
        DlibDetector()
    assert f'ImportError: {e.value}' == models_msg
    monkeypatch.undo()

    # weights_only: an mmfocus training checkpoint without mmfocus, and a
    # plain-mmengine one with mmfocus
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('faq')
    hub.update_scalar('train/loss', 1.0)
    ours = str(tmp_path / 'ours.pth')
    torch.save({'message_hub': hub.state_dict()}, ours)  # mmfocus imported
    first, history_buffer, getattr_ = _faq_lines(
        ('_pickle.UnpicklingError', 'WeightsUnpickler'))
    out = _python(f'import torch; torch.load({ours!r})')
    assert first in out and history_buffer in out
    plain = str(tmp_path / 'plain.pth')
    out = _python(
        'import torch; from mmengine.logging import MessageHub; '
        "hub = MessageHub.get_instance('x'); "
        "hub.update_scalar('train/loss', 1.0); "
        f"torch.save({{'message_hub': hub.state_dict()}}, {plain!r})")
    assert osp.isfile(plain), out
    with pytest.raises(Exception) as e:
        torch.load(plain)  # mmfocus is imported here
    assert getattr_.split(': ', 1)[1] in str(e.value)
    torch.load(ours)  # and ours loads, weights_only=True
