"""Bad input to tools/train.py and tools/test.py ends in exactly one
``error:`` line that names the file or the config key, before any training
(issue #12, items 5 and 7): config syntax errors (in the config and in a
``_base_`` file), a value of the wrong type, truncated / JSON / malicious
checkpoints through ``--resume FILE`` and ``load_from`` (the malicious
pickle's code never runs), a malformed annotation and annotated images that
do not exist. Each row runs the tool in a subprocess, as a user does."""
import glob
import json
import os
import os.path as osp
import pickle
import shutil

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')


def _data_opts(root):
    return [f'{k}_dataloader.dataset.data_root={root}'
            for k in ('train', 'val', 'test')]


@pytest.fixture
def one_error(run_tool):
    """``one_error(args) -> line``: run a tool that must fail with exit
    status 1 and exactly one line on stderr, an ``error:`` line."""

    def _run(args):
        proc = run_tool(args, timeout=300)
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('error:'), lines
        assert 'weights_only=False' not in proc.stdout + proc.stderr
        return lines[0]

    return _run


@pytest.fixture
def one_error_here(load_tool, capsys, monkeypatch):
    """``one_error(args)`` in this process, for the errors raised while the
    config is read (the same ``cli_main``-wrapped ``main``, minus ~5 s of
    imports per call)."""
    from mmfocus.utils.cli import cli_main
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)

    def _run(args):
        tool = load_tool(args[0])
        capsys.readouterr()
        with pytest.raises(SystemExit) as e:
            cli_main(tool.main)(list(args[1:]))
        assert e.value.code == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('error:'), lines
        return lines[0]

    return _run


class _Payload:
    """Pickles as a call that creates ``marker``: what a malicious
    checkpoint would run if it were loaded unsafely."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f'open({self.marker!r}, "w").close()', ))


@pytest.fixture
def evil(tmp_path):
    """``(zip checkpoint, legacy-format checkpoint, marker)``."""
    marker = str(tmp_path / 'PAYLOAD_RAN')
    # the payload is live: an unsafe load would create the marker
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert osp.exists(marker)
    os.remove(marker)
    ckpt = {'meta': {'iter': 2}, 'state_dict': {}, 'x': _Payload(marker)}
    zip_path = str(tmp_path / 'evil.pth')
    torch.save(ckpt, zip_path)
    legacy = str(tmp_path / 'evil_legacy.pth')
    torch.save(ckpt, legacy, _use_new_zipfile_serialization=False)
    return zip_path, legacy, marker


def test_config_syntax_error_names_file_and_line(tmp_path, one_error,
                                                 one_error_here,
                                                 random_checkpoint):
    cfg = tmp_path / 'broken.py'
    cfg.write_text(f"_base_ = ['{CFG}']\nmodel = dict(neck=dict(k=4)\n"
                   "x = 1\n")
    line = one_error(['tools/train.py', str(cfg)])
    assert line.startswith(f'error: {cfg}:2: SyntaxError: ')
    assert 'never closed' in line
    # in a _base_ file: that file is named, not the config given
    base = tmp_path / 'base_broken.py'
    base.write_text('model = dict(\n    k=4,,\n)\n')
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['./base_broken.py']\n")
    line = one_error_here(['tools/train.py', str(child)])
    assert line.startswith(f'error: {base}:2: SyntaxError: ')
    line = one_error_here(['tools/test.py', str(child),
                           random_checkpoint(CFG)])
    assert line.startswith(f'error: {base}:2: SyntaxError: ')


def test_wrong_value_type_names_the_key(tmp_path, one_error_here):
    cfg = tmp_path / 'typo.py'
    cfg.write_text(f"_base_ = ['{CFG}']\nmodel = dict(neck=dict(k='four'))\n")
    line = one_error_here(['tools/train.py', str(cfg), '--work-dir',
                      str(tmp_path / 'w')])
    assert "config key model.neck.k: CARPNeck expects int, got str 'four'" \
        in line
    line = one_error_here(['tools/train.py', CFG, '--work-dir',
                           str(tmp_path / 'w'), '--cfg-options',
                           'model.head.k=four'])
    assert 'model.head.k' in line and 'expects int' in line
    assert not glob.glob(str(tmp_path / 'w' / '*.pth'))


def test_malicious_checkpoint_never_runs(tiny_demo_data, tmp_path, evil,
                                         one_error):
    zip_path, legacy, marker = evil
    opts = _data_opts(tiny_demo_data)
    for ckpt, how in ((zip_path, 'resume'), (legacy, 'load_from')):
        work = str(tmp_path / f'w_{how}')
        args = ['tools/train.py', CFG, '--work-dir', work]
        if how == 'resume':
            args += ['--resume', ckpt, '--cfg-options'] + opts
        else:
            args += ['--cfg-options'] + opts + [f'load_from={ckpt}']
        line = one_error(args)
        assert f'unreadable checkpoint {ckpt}' in line, line
        assert 'would import or run exec' in line, line
        assert 'never executes' in line
        assert not osp.exists(marker), f'the payload ran through {how}'
        assert not glob.glob(osp.join(work, '*.pth'))
    line = one_error(['tools/test.py', CFG, zip_path])
    assert zip_path in line and not osp.exists(marker)


def test_truncated_or_json_checkpoint_names_the_file(tiny_demo_data,
                                                     tmp_path, run_tool,
                                                     one_error,
                                                     random_checkpoint):
    good = random_checkpoint(CFG)
    data = open(good, 'rb').read()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(data[:len(data) // 2])
    as_json = tmp_path / 'weights.json'
    as_json.write_text(json.dumps({'state_dict': {}}))
    opts = _data_opts(tiny_demo_data)
    line = one_error(['tools/train.py', CFG, '--work-dir',
                      str(tmp_path / 'w1'), '--resume', str(cut),
                      '--cfg-options'] + opts)
    assert f'unreadable checkpoint {cut}: truncated or corrupt file' in line
    line = one_error(['tools/train.py', CFG, '--work-dir',
                      str(tmp_path / 'w2'), '--cfg-options'] + opts +
                     [f'load_from={cut}'])
    assert str(cut) in line and 'truncated' in line
    # a JSON file as a checkpoint: named, no advice to load it unsafely
    line = one_error(['tools/test.py', CFG, str(as_json)])
    assert f'{as_json}: not a PyTorch checkpoint' in line
    line = one_error(['tools/train.py', CFG, '--work-dir',
                      str(tmp_path / 'w3'), '--resume', str(as_json),
                      '--cfg-options'] + opts)
    assert f'{as_json}: not a PyTorch checkpoint' in line


def test_bad_annotations_fail_before_training(tiny_demo_data, tmp_path,
                                              one_error):
    data = str(tmp_path / 'data')
    shutil.copytree(tiny_demo_data, data)
    ann = osp.join(data, 'train.json')
    text = open(ann).read()
    with open(ann, 'w') as f:
        f.write(text[:len(text) // 3])
    work = str(tmp_path / 'w')
    line = one_error(['tools/train.py', CFG, '--work-dir', work,
                      '--cfg-options'] + _data_opts(data))
    assert f'{ann}: not valid JSON' in line and 'line 1' in line
    with open(ann, 'w') as f:
        f.write(text)
    # an image of the *validation* set is missing: refused before the
    # first iteration, not when validation reaches it
    val = json.load(open(osp.join(data, 'val.json')))['data_list']
    gone = osp.join(data, val[0]['img_path'])
    os.remove(gone)
    line = one_error(['tools/train.py', CFG, '--work-dir', work,
                      '--cfg-options'] + _data_opts(data))
    assert 'val.json: 1 of' in line and 'annotated files are missing' in line
    assert gone in line
    assert not glob.glob(osp.join(work, '*.pth'))
