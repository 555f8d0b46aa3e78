"""Every shell command in the docs is one the tests run (or says why not).

See ``doc_commands.py`` for the ledger and what is checked. A failure names
the doc file and line and the ledger entry to add or fix.
"""
import argparse
import ast
import os.path as osp
import re
import runpy
import sys
import textwrap

import pytest

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from doc_commands import LEDGER, suggestion  # noqa: E402
from doc_extract import (ROOT, all_commands, commands_in, doc_files,  # noqa
                         fenced_blocks)

LEDGER_FILE = 'tests/test_docs/doc_commands.py'
COMMANDS = all_commands()
TINY_CFG = 'tests/data/focus_tiny.py'


def _by_key():
    out = {}
    for c in COMMANDS:
        out.setdefault(c.key, []).append(c)
    return out


# ------------------------------------------------------------ extraction
def test_extractor_on_a_known_page(tmp_path):
    """Continuations, comments, env, ``&&``, loops, ``sbatch --wrap``,
    console prompts, synopsis lines, other languages and includes."""
    (tmp_path / 'inc.md').write_text('```bash\npython tools/c.py --z\n```\n')
    page = tmp_path / 'page.md'
    page.write_text(textwrap.dedent('''\
        # T
        ```bash
        python tools/a.py configs/x.py \\
            --out o.json   # a comment --not-an-option
        A=1 B=2 bash tools/b.sh CFG 8 --work-dir w && cd x
        for v in 1 2; do
          python tools/a.py --v $v
        done
        sbatch --array=0-3 --wrap "python tools/a.py --shard \\$I/4"
        python tools/d.py CONFIG [--a [X]] [--b]
                          [--c K=V ...]
        ```
        ```python
        import os  # not a command
        ```
        ````md
        ```bash
        python tools/nested.py
        ```
        ````
        ```console
        $ python tools/e.py --help
        usage: e.py
        ```
        ```{include} inc.md
        ```
        '''))
    cmds = commands_in('page.md', root=str(tmp_path))
    got = [(c.line, c.key, c.options, c.env) for c in cmds]
    assert got == [
        (3, 'tools/a.py', ['--out'], []),
        (5, 'tools/b.sh', ['--work-dir'], ['A=1', 'B=2']),
        (5, 'cd', [], []),
        (7, 'tools/a.py', ['--v'], []),
        (9, 'sbatch', ['--array', '--wrap'], []),
        (9, 'tools/a.py', ['--shard'], []),
        (10, 'tools/d.py', ['--a', '--b', '--c'], []),
        (22, 'tools/e.py', ['--help'], []),
    ]
    assert cmds[0].repo_paths == ['tools/a.py', 'configs/x.py']
    from doc_extract import included_files
    assert included_files(str(page)) == [str(tmp_path / 'inc.md')]


def test_docs_are_found():
    files = doc_files()
    assert 'README.md' in files and 'docs/en/get_started.md' in files
    assert 'docs/en/index.md' in files
    keys = _by_key()
    for key in ('tools/train.py', 'tools/test.py', 'tools/dist_train.sh',
                'tools/analysis/get_flops.py', 'tools/misc/print_config.py',
                'tools/run_demo.sh', 'tools/run_tests.sh'):
        assert key in keys, f'no documented command runs {key}'


# ---------------------------------------------------------------- ledger
def test_every_doc_command_has_a_ledger_entry():
    missing = {k: v for k, v in _by_key().items() if k not in LEDGER}
    msg = []
    for key, cmds in sorted(missing.items()):
        where = ', '.join(c.where for c in cmds)
        msg.append(f'{where}: `{cmds[0].text}` runs `{key}`, which has no '
                   f'entry in {LEDGER_FILE} LEDGER. Add a test that runs it '
                   f'on a tiny config and:\n{suggestion(key)}')
    assert not msg, '\n'.join(msg)


def test_no_stale_ledger_entries():
    stale = sorted(set(LEDGER) - set(_by_key()))
    assert not stale, (f'{LEDGER_FILE}: no documented command runs '
                       f'{stale} any more; remove these entries')


def test_ledger_entries_are_complete():
    for key, tool in LEDGER.items():
        assert bool(tool.tests) != bool(tool.reason), (
            f'{LEDGER_FILE}: {key!r} needs either tests or a reason why no '
            'test can run it (not both)')
        assert tool.cheap in ('', 'verbatim', 'tiny'), key
        if tool.cheap:
            assert any(t.endswith('::test_cheap_commands_run')
                       for t in tool.tests), key
        for opt, why in tool.not_run.items():
            assert opt.startswith('-') and why.strip(), (key, opt)


def _module(path):
    full = osp.join(ROOT, path)
    assert osp.isfile(full), f'{LEDGER_FILE}: test file {path} not found'
    with open(full, encoding='utf-8') as f:
        src = f.read()
    return src, ast.parse(src)


def _find_test(nodeid):
    """``(module source, module ast, function ast)`` of a node id
    ``path::func`` or ``path::Class::func``."""
    path, *names = nodeid.split('::')
    src, tree = _module(path)
    scope = tree.body
    node = None
    for name in names:
        node = next((n for n in scope if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and n.name == name), None)
        assert node is not None, (
            f'{LEDGER_FILE}: test {nodeid} does not exist (no {name} in '
            f'{path})')
        scope = node.body
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
        node.name.startswith('test'), f'{nodeid} is not a test function'
    return src, tree, node


def _strings(node):
    return {n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _helper_strings(tree):
    """String constants of a module outside its test functions (helpers,
    fixtures, constants that the tests call)."""
    out = set()
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                n.name.startswith('test'):
            continue
        out |= _strings(n)
    return out


def _tool_word(key):
    if key.endswith(('.py', '.sh')):
        return osp.splitext(osp.basename(key))[0]
    return key.split()[0].split('-')[0]


def test_ledger_tests_exist_and_name_their_tool():
    for key, tool in LEDGER.items():
        for nodeid in tool.tests:
            src, _, _ = _find_test(nodeid)
            assert _tool_word(key) in src, (
                f'{LEDGER_FILE}: {nodeid} is listed for {key!r} but its '
                f'module never names {_tool_word(key)!r}')
        for doc in tool.doc_runners:
            assert osp.isfile(osp.join(ROOT, doc)), doc
            assert any(osp.basename(doc) in _module(t.split('::')[0])[0]
                       for t in tool.tests), (
                f'{LEDGER_FILE}: no test listed for {key!r} reads {doc}')


# --------------------------------------------------- options and paths
class _Parser(Exception):
    def __init__(self, parser):
        self.parser = parser


_PARSERS = {}


def tool_options(script):
    """The option strings of a tool's argparse parser, captured by running
    the script with ``parse_args`` intercepted (nothing else runs); its
    ``--help`` text is rendered too (a stray ``%`` in a help string would
    break ``--help``)."""
    if script not in _PARSERS:
        def grab(self, *args, **kwargs):
            raise _Parser(self)

        mp = pytest.MonkeyPatch()
        mp.setattr(argparse.ArgumentParser, 'parse_args', grab)
        mp.setattr(argparse.ArgumentParser, 'parse_known_args', grab)
        mp.setattr(sys, 'argv', [script])
        try:
            runpy.run_path(osp.join(ROOT, script), run_name='__main__')
        except _Parser as e:
            assert 'usage:' in e.parser.format_help()  # what --help prints
            opts = set(e.parser._option_string_actions)
            for action in e.parser._actions:  # sub-commands' options too
                if isinstance(action, argparse._SubParsersAction):
                    for sub in action.choices.values():
                        opts |= set(sub._option_string_actions)
            _PARSERS[script] = opts
        finally:
            mp.undo()
        assert script in _PARSERS, f'{script} built no argparse parser'
    return _PARSERS[script]


def test_documented_options_exist_in_the_tools():
    errors = []
    for c in COMMANDS:
        tool = LEDGER.get(c.key)
        if tool is None:
            continue
        parser = tool.parser
        if parser is None:
            parser = c.key if c.key.endswith('.py') else ''
        if not parser:
            continue
        known = tool_options(parser)
        for opt in c.options:
            if opt not in known:
                errors.append(f'{c.where}: `{c.text}`: {parser} has no '
                              f'option {opt}')
    assert not errors, '\n'.join(errors)


def _mentions(strings, opt):
    pat = re.compile(rf'(^|\s){re.escape(opt)}(\s|=|$)')
    return any(s == opt or pat.search(s) for s in strings)


def test_documented_options_are_run_by_a_test():
    cache = {}
    errors = []
    for c in COMMANDS:
        tool = LEDGER.get(c.key)
        if tool is None or not tool.tests:
            continue
        if c.path in tool.doc_runners:
            continue  # a listed test runs this page's commands as written
        if c.key not in cache:
            strings = set()
            for nodeid in tool.tests:
                _, tree, fn = _find_test(nodeid)
                strings |= _strings(fn) | _helper_strings(tree)
            cache[c.key] = strings
        for opt in c.options:
            if opt in tool.not_run or _mentions(cache[c.key], opt):
                continue
            errors.append(
                f'{c.where}: `{c.text}` uses {opt}, which none of the tests '
                f'listed for {c.key!r} in {LEDGER_FILE} passes; run it in a '
                'test (and list the test) or add it to not_run with the '
                'reason')
    assert not errors, '\n'.join(errors)


def _outputs(c, tool):
    """The positional arguments (before the first option) that the tool
    writes, by their index in ``tool.outputs``."""
    args = c.argv[c.argv.index(c.key) + 1:] if c.key in c.argv else []
    pos = []
    for a in args:
        if a.startswith(('-', '[')):
            break
        pos.append(a)
    return {pos[i] for i in tool.outputs if i < len(pos)}


def test_repo_paths_in_commands_exist():
    errors = []
    for c in COMMANDS:
        tool = LEDGER.get(c.key)
        outputs = _outputs(c, tool) if tool else set()
        errors += [f'{c.where}: `{c.text}`: {p} does not exist'
                   for p in c.repo_paths
                   if p not in outputs and not osp.exists(osp.join(ROOT, p))]
    assert not errors, '\n'.join(errors)


INLINE_PATH = re.compile(
    r'`((?:configs|tools|mmfocus|checkpoints|requirements|demo|tests)/'
    r'[\w./-]*)`')


def test_repo_files_named_in_the_text_exist():
    """Inline-code paths such as `configs/focus/vit-s_ffpp-lq.py` (not
    only those in commands) name files that exist."""
    errors = []
    for path in doc_files():
        with open(osp.join(ROOT, path), encoding='utf-8') as f:
            for i, line in enumerate(f, 1):
                for m in INLINE_PATH.finditer(line):
                    p = m.group(1).rstrip('.')
                    if not osp.exists(osp.join(ROOT, p)):
                        errors.append(f'{path}:{i}: {p} does not exist')
    assert not errors, '\n'.join(errors)


# ------------------------------------------------------ cheap commands
def _run_tool(script, args, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [script] + list(args))
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    try:
        runpy.run_path(osp.join(ROOT, script), run_name='__main__')
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def _tiny_args(args, tmp_path):
    """The documented arguments with the config swapped for the tiny one
    and any output file moved to ``tmp_path``."""
    out, k = [], 0
    while k < len(args):
        a = args[k]
        if a.startswith('configs/') and a.endswith('.py'):
            a = TINY_CFG
        elif a == '--shape':  # the tiny model has its own fixed size
            k += 1
            while k < len(args) and args[k].isdigit():
                k += 1
            continue
        elif a == '--out' and k + 1 < len(args):
            out += [a, str(tmp_path / osp.basename(args[k + 1]))]
            k += 2
            continue
        out.append(a)
        k += 1
    return out


def test_cheap_commands_run(tmp_path, monkeypatch, capsys):
    """print_config on every real config named in the docs, and get_flops
    with the documented options on the tiny config."""
    ran, skipped = [], []
    for c in COMMANDS:
        tool = LEDGER.get(c.key)
        if tool is None or not tool.cheap:
            continue
        args = c.argv[c.argv.index(c.key) + 1:]
        if tool.cheap == 'tiny':
            if '--timm' in args:  # a timm model: tests/test_analysis
                skipped.append(c.where)
                continue
            args = _tiny_args(args, tmp_path)
        files = [a for a in args if a.endswith('.py')]
        if not all(osp.isfile(osp.join(ROOT, f)) for f in files) or \
                any(re.search(r'[A-Z]{3,}|\[|\.\.\.', a) for a in args):
            skipped.append(c.where)  # a placeholder (my_config.py, CONFIG)
            continue
        code, out, err = _run_tool(c.key, args, monkeypatch, capsys)
        assert code == 0, f'{c.where}: `{c.text}` failed:\n{err[-2000:]}'
        if c.key.endswith('print_config.py'):
            assert "default_scope = 'mmfocus'" in out, c.where
        else:
            assert re.search(r'FLOPs', out), (c.where, out[-1000:])
        ran.append(c.where)
    assert len(ran) >= 3, (ran, skipped)
