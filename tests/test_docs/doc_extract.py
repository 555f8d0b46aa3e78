"""Find every shell command and Python example in the documentation.

The documentation is ``README.md``, every ``docs/en/**/*.md`` and every
Markdown file those pages pull in with a MyST ``{include}`` directive (the
model-zoo pages include ``configs/*/README.md``).

A *command* is one logical line of a fenced ``bash`` / ``shell`` / ``sh`` /
``console`` block: backslash continuations joined, comments dropped, split at
``&&``, ``||`` and ``;``, leading ``VAR=value`` assignments removed. A
``sbatch --wrap "..."`` command also yields the command it wraps.
"""
import glob
import os.path as osp
import re
import shlex
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHELL_LANGS = ('bash', 'shell', 'sh', 'console')
FENCE = re.compile(r'^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$')
ENV_ASSIGN = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*=')
OPTION = re.compile(r'^-{1,2}[A-Za-z][A-Za-z0-9_-]*$')
# shell loops and conditions: ``for x in a; do cmd; done``
SHELL_PREFIXES = ('do', 'then', 'else')
SHELL_SYNTAX = ('for', 'while', 'until', 'if', 'elif', 'done', 'fi', 'esac')
# ``python -m <launcher> [opts] script.py ...`` runs ``script.py``
LAUNCHERS = ('torch.distributed.run', 'torch.distributed.launch')
# Paths in commands that must exist in the repository (inputs the user
# does not create): everything under these folders.
REPO_DIRS = ('configs/', 'tools/', 'checkpoints/', 'demo/', 'tests/',
             'requirements/', 'mmfocus/', 'docs/', '.dev_scripts/')


@dataclass
class Block:
    path: str  # relative to ROOT
    line: int  # 1-based line of the first content line
    lang: str
    text: str
    info_arg: str = ''  # what follows the language (``{include} <path>``)


@dataclass
class DocCommand:
    path: str  # relative to ROOT
    line: int  # 1-based line where the command starts
    text: str  # the command as written (continuations joined)
    argv: List[str] = field(default_factory=list)  # env assignments removed
    env: List[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f'{self.path}:{self.line}'

    @property
    def key(self) -> str:
        return command_key(self.argv)

    @property
    def options(self) -> List[str]:
        return command_options(self.argv)

    @property
    def repo_paths(self) -> List[str]:
        return command_repo_paths(self.argv)


def doc_files(root: str = ROOT) -> List[str]:
    """``README.md``, ``docs/en/**/*.md`` and the files they include
    (relative to ``root``, sorted, each once)."""
    files = [osp.join(root, 'README.md')]
    files += glob.glob(osp.join(root, 'docs', 'en', '**', '*.md'),
                       recursive=True)
    files = [f for f in files if '/_build/' not in f]
    seen, queue = set(), sorted(files)
    while queue:
        path = osp.normpath(queue.pop(0))
        if path in seen or not osp.isfile(path):
            continue
        seen.add(path)
        for inc in included_files(path):
            queue.append(inc)
    return sorted(osp.relpath(p, root) for p in seen)


def included_files(path: str) -> List[str]:
    """Absolute paths of the MyST ``{include}`` targets of ``path``."""
    return [osp.normpath(osp.join(osp.dirname(path), b.info_arg))
            for b in fenced_blocks(path, root=osp.dirname(path))
            if b.lang == '{include}' and b.info_arg]


def fenced_blocks(path: str, root: str = ROOT) -> List[Block]:
    """Every fenced block of a Markdown file, nested fences respected."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, indent = m['fence'], m['info'].strip(), len(m['indent'])
        body, j = [], i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if (close and close['fence'][0] == fence[0]
                    and len(close['fence']) >= len(fence)
                    and not close['info'].strip()):
                break
            line = lines[j]
            body.append(line[indent:] if line[:indent].strip() == '' else
                        line.lstrip())
            j += 1
        words = info.split(None, 1)
        lang = words[0] if words else ''
        blocks.append(Block(osp.relpath(path, root), i + 2, lang,
                            '\n'.join(body),
                            words[1].strip() if len(words) > 1 else ''))
        i = j + 1
    return blocks


def _logical_lines(block: Block) -> List[Tuple[int, str]]:
    """``(line number, text)`` with backslash continuations joined and
    ``$ `` prompts of console blocks removed (output lines dropped)."""
    out, cur, start = [], '', None
    for k, raw in enumerate(block.text.splitlines()):
        line = raw.rstrip()
        if block.lang == 'console' and not cur:
            if not line.lstrip().startswith('$ '):
                continue
            line = line.lstrip()[2:]
        if (out and not cur and raw[:1].isspace()
                and line.lstrip().startswith(('[', '-'))):
            # a synopsis wrapped without a backslash: the options of the
            # line above (``tool CONFIG [--a]`` / ``    [--b]``)
            out[-1] = (out[-1][0], out[-1][1] + ' ' + line.strip())
            continue
        if start is None:
            start = block.line + k
        if line.endswith('\\'):
            cur += line[:-1] + ' '
            continue
        cur += line
        if cur.strip():
            out.append((start, cur.strip()))
        cur, start = '', None
    if cur.strip():
        out.append((start, cur.strip()))
    return out


def split_command(text: str) -> List[List[str]]:
    """shlex words of ``text`` (comments dropped), split at ``&&``,
    ``||``, ``;``."""
    lex = shlex.shlex(text, posix=True, punctuation_chars=';&|')
    lex.whitespace_split = True
    lex.commenters = '#'
    parts, cur = [], []
    for tok in lex:
        if tok in ('&&', '||', ';', '&'):
            if cur:
                parts.append(cur)
            cur = []
        else:
            cur.append(tok)
    if cur:
        parts.append(cur)
    return parts


def commands_in(path: str, root: str = ROOT) -> List[DocCommand]:
    """Every shell command of one Markdown file."""
    cmds = []
    for block in fenced_blocks(osp.join(root, path), root=root):
        if block.lang not in SHELL_LANGS:
            continue
        for line_no, text in _logical_lines(block):
            for words in split_command(text):
                cmds.extend(_make(path, line_no, text, words))
    return cmds


def _make(path, line_no, text, words) -> List[DocCommand]:
    env = []
    while words and ENV_ASSIGN.match(words[0]):
        env.append(words.pop(0))
    if words and words[0] in SHELL_PREFIXES:  # ``do cmd``, ``then cmd``
        words = words[1:]
    if words and words[0] in SHELL_SYNTAX:  # ``for x in a b``, ``done``
        return []
    if not words:
        return []
    cmd = DocCommand(path, line_no, text, words, env)
    out = [cmd]
    if words[0] == 'sbatch':  # the command it wraps is documented too
        for k, w in enumerate(words):
            inner = None
            if w == '--wrap' and k + 1 < len(words):
                inner = words[k + 1]
            elif w.startswith('--wrap='):
                inner = w[len('--wrap='):]
            if inner:
                for sub in split_command(inner):
                    out.extend(_make(path, line_no, inner, sub))
    return out


def all_commands(root: str = ROOT) -> List[DocCommand]:
    cmds = []
    for path in doc_files(root):
        cmds.extend(commands_in(path, root))
    return cmds


def command_key(argv: List[str]) -> str:
    """The tool a command runs: the script path for ``python x.py``,
    ``bash x.sh`` and ``tools/x.sh``; ``python -m mod``; else the program
    name (``pip install``, ``git clone``: with its sub-command)."""
    if not argv:
        return ''
    prog = argv[0]
    rest = argv[1:]
    launcher = prog == 'torchrun' or (
        rest[:1] == ['-m'] and len(rest) > 1 and rest[1] in LAUNCHERS)
    if launcher:  # torchrun [opts] script.py: the script is the tool
        script = next((w for w in rest if w.endswith('.py')), None)
        if script:
            return script
    if re.fullmatch(r'python[0-9.]*', osp.basename(prog)):
        if rest[:1] == ['-m'] and len(rest) > 1:
            return f'python -m {rest[1]}'
        return rest[0] if rest else 'python'
    if prog in ('bash', 'sh') and rest:
        return rest[0]
    if prog.endswith('.sh') or prog.endswith('.py'):
        return prog
    if prog in ('pip', 'pip3', 'git', 'conda', 'apt-get', 'apt') and rest:
        return f'{prog} {rest[0]}'
    return prog


def _args_after_tool(argv: List[str]) -> List[str]:
    key = command_key(argv)
    for k, w in enumerate(argv):
        if w == key or (key.startswith('python -m ') and w == key[10:]):
            return argv[k + 1:]
        if ' ' in key and w == key.split(' ', 1)[1]:
            return argv[k + 1:]
    return argv[1:]


def command_options(argv: List[str]) -> List[str]:
    """The options (``--x`` / ``-x``) a command passes to its tool, brackets
    of synopsis lines (``[--resume [CKPT]]``) and ``=value`` removed."""
    out = []
    for w in _args_after_tool(argv):
        w = w.strip('[]()').split('=', 1)[0]
        if OPTION.match(w) and w not in out:
            out.append(w)
    return out


def command_repo_paths(argv: List[str]) -> List[str]:
    """Arguments that name a file of the repository (see ``REPO_DIRS``)."""
    out = []
    for w in argv:
        w = w.strip('[]()').split('=', 1)[-1]
        for part in w.split(':'):  # NAME=config.py:checkpoint.pth
            if part.startswith(REPO_DIRS) and \
                    not re.search(r'[<>*$]|\.\.\.', part):
                out.append(part.rstrip(',.'))
    return out


def python_blocks(path: str, root: str = ROOT) -> List[Block]:
    return [b for b in fenced_blocks(osp.join(root, path), root=root)
            if b.lang == 'python']
