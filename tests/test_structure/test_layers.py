"""The layering of docs/en/advanced_guides/structure.md, checked on the
source: a module of mmfocus imports only from its own layer or below (at
module level or inside a function)."""
import ast
import os
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PKG = osp.join(ROOT, 'mmfocus')

# bottom to top; a subpackage may import its own layer and the ones below
LAYERS = (
    ('registry', 'utils', 'compat', 'version'),
    ('faces', 'datasets', 'models', 'evaluation'),
    ('maps', 'visualization', 'analysis'),
    ('engine', ),
    ('apis', ),
    ('experiments', ),
    ('app', ),
)
LEVEL = {name: i for i, names in enumerate(LAYERS) for name in names}
# imports every subpackage to register it, as mmpretrain's does
EXEMPT = {'mmfocus/utils/setup_env.py'}


def _modules():
    for dirpath, _, files in os.walk(PKG):
        for f in sorted(files):
            if f.endswith('.py'):
                path = osp.join(dirpath, f)
                yield osp.relpath(path, ROOT).replace(os.sep, '/')


def _imported(node, rel):
    """Absolute mmfocus module names an import node names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        pkg = rel[:-3].split('/')[:-1]
        pkg = pkg[:len(pkg) - (node.level - 1)]
        base = '.'.join(pkg + ([node.module] if node.module else []))
    else:
        base = node.module or ''
    return [base] + [f'{base}.{a.name}' for a in node.names]


def _sub(module):
    parts = module.split('.')
    return parts[1] if parts[0] == 'mmfocus' and len(parts) > 1 else None


def _imports(rel):
    with open(osp.join(ROOT, rel)) as f:
        tree = ast.parse(f.read(), rel)
    local = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local.update(id(n) for n in ast.walk(fn)
                         if isinstance(n, (ast.Import, ast.ImportFrom)))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for mod in _imported(node, rel):
                yield node.lineno, mod, id(node) in local


def test_every_subpackage_has_a_layer():
    subs = {d for d in os.listdir(PKG)
            if osp.isdir(osp.join(PKG, d)) and not d.startswith(('_', '.'))}
    subs |= {f[:-3] for f in os.listdir(PKG)
             if f.endswith('.py') and f != '__init__.py'}
    assert subs - set(LEVEL) == set(), 'give the new subpackage a layer'


def test_no_upward_imports():
    bad = []
    for rel in _modules():
        own = _sub(rel[:-3].replace('/', '.'))
        if rel in EXEMPT or own not in LEVEL:
            continue
        for line, mod, _ in _imports(rel):
            sub = _sub(mod)
            if sub in LEVEL and LEVEL[sub] > LEVEL[own]:
                bad.append(f'{rel}:{line} ({own}) imports {mod}')
    assert not bad, '\n'.join(sorted(set(bad)))


def test_utils_io_is_imported_at_module_level():
    # it imports nothing heavy: hiding it in functions only hides the tie
    bad = [f'{rel}:{line}' for rel in _modules()
           for line, mod, local in _imports(rel)
           if local and mod.startswith('mmfocus.utils.io')]
    assert not bad, bad


@pytest.mark.parametrize('rel', ['mmfocus/maps/cam.py',
                                 'mmfocus/visualization/sheet.py'])
def test_the_checker_sees_an_upward_import(rel, tmp_path):
    # the rule is not vacuous: a planted upward import is reported
    src = open(osp.join(ROOT, rel)).read()
    tree = ast.parse(src + '\n\ndef _f():\n    from mmfocus.apis import x\n')
    mods = [m for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for m in _imported(n, rel)]
    assert any(_sub(m) == 'apis' for m in mods)


def test_no_module_passes_600_lines():
    """One thing per file: the big modules were split (issue 11)."""
    long = []
    for rel in _modules():
        with open(osp.join(ROOT, rel)) as f:
            n = sum(1 for _ in f)
        if n > 600:
            long.append(f'{rel}: {n} lines')
    assert not long, 'split these modules: ' + '; '.join(long)
