"""Helpers of the tools/report.py tests (test_report.py,
test_report_experiments.py): the doc page's commands, headless Chromium."""
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOC = osp.join(ROOT, 'docs', 'en', 'useful_tools', 'report.md')
CHROMIUM = os.environ.get('MMFOCUS_CHROMIUM') or shutil.which('chromium') \
    or shutil.which('chromium-browser')
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason='chromium not installed (Debian: run '
    '`bash .dev_scripts/setup_browser.sh` as root, or set MMFOCUS_CHROMIUM)')


def doc_commands(tool, section=None):
    """``(args, comment)`` of every ``python <tool>`` command in the bash
    blocks of the doc page, in order; with ``section``, only those under
    the ``## <section>`` heading (up to the next ``## `` heading)."""
    text = open(DOC, encoding='utf-8').read()
    if section is not None:
        parts = re.split(r'^## ', text, flags=re.M)
        hits = [p for p in parts if p.split('\n', 1)[0].strip() == section]
        assert len(hits) == 1, f'no single "## {section}" in {DOC}'
        text = hits[0]
    cmds = []
    for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            cmd, _, comment = line.strip().partition('#')
            words = shlex.split(cmd)
            if words[:2] == ['python', tool]:
                cmds.append((words[2:], comment.strip()))
    return cmds


def in_tmp(args, tmp):
    """The doc's ``work_dirs/...`` paths moved under ``tmp``."""
    return [osp.join(tmp, a[len('work_dirs/'):])
            if a.startswith('work_dirs/') else a for a in args]


def chromium(args, url, tmp_path):
    """Run headless Chromium on ``url``; return ``(stdout, console lines)``.

    Every page console message (``console.*``, uncaught exceptions, CSP
    violations) is logged by ``--enable-logging=stderr`` as a ``CONSOLE``
    line; the reports themselves never log, so any such line is an error.
    """
    profile = tmp_path / f'profile{len(list(tmp_path.iterdir()))}'
    cmd = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu',
           '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update',
           '--disable-sync', f'--user-data-dir={profile}',
           '--enable-logging=stderr', '--v=0'] + args + [url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [ln for ln in proc.stderr.splitlines()
               if ':CONSOLE' in ln or 'Uncaught' in ln]
    return proc.stdout, console


def file_url(path, fragment=''):
    return 'file://' + osp.abspath(path) + fragment


def no_external_urls(text):
    """No ``src`` / ``href`` / CSS ``url()`` that leaves the page."""
    return not re.search(r'(src|href)\s*=\s*["\']?(https?:|//|ftp:)', text) \
        and not re.search(r'url\(\s*["\']?(https?:|//)', text)


def report_cli(load_tool, argv):
    """tools/report.py's command line in this process (one-line errors
    included): ``(exit code, stdout, stderr)``."""
    import contextlib
    import io

    from mmfocus.utils.cli import cli_main
    tool = load_tool('tools/report.py')
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli_main(tool.main)(argv)
            code = 0
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()
