"""tools/infer.py and docs/en/user_guides/inference.md: every command and
the Python example of the guide run here, on the tiny config (the demo
config and checkpoint swapped for the tiny ones, work_dirs/ for a tmp dir,
the placeholders my_photos / my_video.mp4 for real inputs).

The first command runs as a user runs it (a subprocess); the others call
the tool's ``cli_main``-wrapped ``main`` in this process, which is the same
code minus ~5 s of imports per call."""
import json
import os.path as osp
import re
import shlex
import shutil

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
PHOTO = osp.join(ROOT, 'demo', 'faces', 'photos', '2008_001009.jpg')
DOC = osp.join(ROOT, 'docs', 'en', 'user_guides', 'inference.md')
DEMO_CFG = 'configs/focus/vit-demo_demo-sbi.py'
DEMO_CKPT = 'checkpoints/focus_vit-demo_demo-sbi.pth'

pytest.importorskip('dlib')


def _blocks(lang):
    text = open(DOC, encoding='utf-8').read()
    return re.findall(rf'```{lang}\n(.*?)```', text, flags=re.S)


def doc_commands():
    """``(args, comment)`` of every ``python tools/infer.py`` command."""
    cmds = []
    for block in _blocks('bash'):
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.strip()
            if not line.startswith('python tools/infer.py'):
                continue
            cmd, _, comment = line.partition('#')
            cmds.append((shlex.split(cmd)[2:], comment.strip()))
    return cmds


@pytest.fixture
def infer(run_tool, run_cli):
    """``infer(args, as_subprocess=False) -> (returncode, stdout, stderr)``
    of ``tools/infer.py args``: in a subprocess, or through the tool's
    ``cli_main`` in this process."""

    def _infer(args, as_subprocess=False):
        if as_subprocess:
            proc = run_tool(['tools/infer.py'] + args, timeout=300)
            return proc.returncode, proc.stdout, proc.stderr
        return run_cli('tools/infer.py', args)

    return _infer


def test_doc_commands_run_on_tiny_config(tiny_ckpt, face_video, tmp_path,
                                        monkeypatch, infer):
    photos = tmp_path / 'my_photos'
    photos.mkdir()
    shutil.copy(PHOTO, photos / 'face.jpg')
    (photos / 'readme.txt').write_text('not an image')
    (photos / 'zero.jpg').write_bytes(b'')
    work = str(tmp_path / 'work_dirs')
    subst = {'my_photos': str(photos), 'my_video.mp4': face_video}

    cmds = doc_commands()
    assert len(cmds) == 3, cmds
    outs = []
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)
    for i, (args, comment) in enumerate(cmds):
        args = [subst.get(a, a) for a in args]
        args = [work + a[len('work_dirs'):] if a.startswith('work_dirs/')
                else a for a in args]
        assert '--config' not in args and '--checkpoint' not in args
        args += ['--config', TINY_CFG, '--checkpoint', tiny_ckpt,
                 '--no-progress']
        out_dir = args[args.index('--out-dir') + 1]
        before = (open(osp.join(out_dir, 'results.json')).read()
                  if osp.exists(osp.join(out_dir, 'results.json')) else None)
        rc, out, err = infer(args, as_subprocess=i == 0)
        if 'refused' in comment:
            assert rc == 1, out + err
            last = err.strip().splitlines()[-1]
            assert last.startswith('error: FileExistsError') and \
                'results.json' in last, err
            assert before is not None and before == open(
                osp.join(out_dir, 'results.json')).read()
        else:
            assert rc == 0, out + err[-3000:]
            outs.append((out_dir, out))

    (photo_dir, photo_out), (batch_dir, batch_out) = outs
    res = json.load(open(osp.join(photo_dir, 'results.json')))
    [r] = res['results']
    assert r['error'] is None and len(r['faces']) >= 1
    assert osp.isfile(osp.join(photo_dir, r['vis_path']))
    assert res['meta']['checkpoint'] == tiny_ckpt
    assert 'demo/faces/photos/2008_001009.jpg' in photo_out
    assert f'{r["score"]:.3f}' in photo_out

    res = json.load(open(osp.join(batch_dir, 'results.json')))['results']
    by = {osp.basename(r['input']): r for r in res}
    assert set(by) == {'face.jpg', 'readme.txt', 'zero.jpg', 'face.mp4'}
    assert by['face.jpg']['error'] is None
    assert 'readme.txt' in by['readme.txt']['error']
    assert 'zero-byte' in by['zero.jpg']['error']
    video = by['face.mp4']
    assert [f['frame_idx'] for f in video['frames']] == [0, 2, 4, 6]
    assert osp.isfile(osp.join(batch_dir, video['vis_path']))
    assert osp.isfile(osp.join(batch_dir, video['strip_path']))
    assert 'zero-byte' in batch_out and '2 with an error' in batch_out


def test_doc_python_example(tiny_ckpt, tmp_path, monkeypatch, capsys):
    [code] = _blocks('python')
    assert DEMO_CFG in code and DEMO_CKPT in code
    code = code.replace(DEMO_CFG, TINY_CFG).replace(DEMO_CKPT, tiny_ckpt)
    code = code.replace("'work_dirs/", repr(str(tmp_path) + '/')[:-1])
    monkeypatch.chdir(ROOT)
    exec(compile(code, DOC, 'exec'), {})
    out = capsys.readouterr().out
    assert 'input not found: not_here.jpg' in out
    assert '(224, 224)' in out and '(32, 32)' in out
    assert osp.isfile(str(tmp_path / 'infer' / 'api' / 'results.json'))


@pytest.mark.parametrize('extra,words', [
    (['--config', 'missing_cfg.py'], 'missing_cfg.py'),
    (['--checkpoint', 'missing.pth'], 'missing.pth'),
    (['--video-stride', '0'], '--video-stride'),
    (['--max-image-side', '-1'], '--max-image-side'),
])
def test_tool_bad_command_errors(extra, words, tmp_path, monkeypatch,
                                 infer):
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)
    args = [PHOTO, '--config', TINY_CFG, '--out-dir', str(tmp_path / 'o'),
            '--no-progress'] + extra
    rc, out, err = infer(args)
    assert rc == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith('error: ') and words in last, err
    assert not osp.exists(str(tmp_path / 'o' / 'results.json'))


def test_max_image_side_option(tiny_ckpt, tmp_path, monkeypatch, infer):
    """``--max-image-side`` (the option the 'image too large' message
    names): the 480 x 360 photo is refused at 400 px, with the option named
    in its error entry, and accepted with 0 (no limit)."""
    monkeypatch.delenv('MMFOCUS_DEBUG', raising=False)
    out = tmp_path / 'o'
    base = [PHOTO, '--config', TINY_CFG, '--checkpoint', tiny_ckpt,
            '--out-dir', str(out), '--no-progress']
    rc, stdout, err = infer(base + ['--max-image-side', '400'])
    assert rc == 0, err
    [r] = json.load(open(out / 'results.json'))['results']
    assert r['score'] is None
    assert 'image too large' in r['error'] and '400 px' in r['error']
    assert '--max-image-side' in r['error'] and PHOTO in r['error']
    assert '1 with an error' in stdout
    rc, stdout, err = infer(base + ['--max-image-side', '0', '--overwrite'])
    assert rc == 0, err
    [r] = json.load(open(out / 'results.json'))['results']
    assert r['error'] is None and r['faces']


def test_doc_output_is_what_the_demo_checkpoint_gives(load_tool):
    """The defaults of tools/infer.py exist, load strictly, and print the
    table shown in the guide."""
    tool = load_tool('tools/infer.py')
    defaults = tool.parse_args([PHOTO])
    if not osp.isfile(defaults.checkpoint):
        pytest.skip('the demo checkpoint is not in this checkout')
    assert osp.isfile(defaults.config)
    from mmfocus.apis import FocusInferencer
    inferencer = FocusInferencer(defaults.config,
                                 defaults.checkpoint,
                                 show_progress=False)
    results = inferencer(PHOTO)
    results[0]['input'] = 'demo/faces/photos/2008_001009.jpg'  # as typed
    table = tool.summary_table(results)
    [shown] = _blocks('text')
    assert table in shown, (table, shown)
