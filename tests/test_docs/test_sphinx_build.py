"""The documentation builds with Sphinx + MyST, warnings as errors.

The same command as in docs/en/get_started.md, into a tmp dir:
``sphinx-build -W --keep-going -n -b html docs/en <out>``. Every page under
docs/en must be in a toctree (Sphinx warns otherwise), every link must
resolve (``-n``: nitpicky) and no network is used (no intersphinx).
"""
import glob
import os.path as osp
import re

import pytest

pytest.importorskip(
    'sphinx', reason='sphinx is not installed (pip install -r '
    'requirements/docs.txt)')
pytest.importorskip(
    'myst_parser', reason='myst-parser is not installed (pip install -r '
    'requirements/docs.txt)')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SRC = osp.join(ROOT, 'docs', 'en')


@pytest.fixture(scope='module')
def html(tmp_path_factory):
    """Build once: ``(out dir, return code, warnings text)``."""
    from sphinx.cmd.build import build_main
    tmp = tmp_path_factory.mktemp('docs')
    out = tmp / 'html'
    warn = tmp / 'warnings.txt'
    rc = build_main(['-W', '--keep-going', '-n', '-b', 'html', '-q',
                     '-d', str(tmp / 'doctrees'), '-w', str(warn),
                     SRC, str(out)])
    return str(out), rc, warn.read_text() if warn.exists() else ''


def test_html_build(html):
    out, rc, warnings = html
    assert rc == 0 and not warnings.strip(), (
        f'sphinx-build -W --keep-going -n failed (rc {rc}):\n{warnings}')
    for page in ('index', 'get_started', 'overview', 'faq',
                 'user_guides/train_test', 'user_guides/inference',
                 'advanced_guides/add_models',
                 'advanced_guides/add_transforms',
                 'advanced_guides/add_map_sources',
                 'useful_tools/get_flops', 'useful_tools/print_config',
                 'model_zoo/focus', 'notes/compat', 'method',
                 'api/registry', 'api/models', 'api/maps'):
        assert osp.isfile(osp.join(out, page + '.html')), page


def test_every_page_is_built_and_reachable_from_the_index(html):
    out, rc, _ = html
    assert rc == 0
    pages = sorted(osp.splitext(osp.relpath(p, SRC))[0]
                   for ext in ('md', 'rst') for p in glob.glob(
                       osp.join(SRC, '**', '*.' + ext), recursive=True)
                   if '_build' not in p)
    with open(osp.join(out, 'index.html'), encoding='utf-8') as f:
        index = f.read()
    links = set(re.findall(r'href="([^"#]+)\.html', index))
    missing = [p for p in pages
               if p != 'index' and p not in links]
    assert not missing, f'not linked from docs/en/index.md: {missing}'
    for p in pages:
        assert osp.isfile(osp.join(out, p + '.html')), p


def test_readme_and_model_zoo_are_included_with_working_links(html):
    out, rc, _ = html
    assert rc == 0
    with open(osp.join(out, 'overview.html'), encoding='utf-8') as f:
        overview = f.read()
    assert 'Two commands' in overview  # README.md's own text
    # README's links to docs/en/* and configs/focus/README.md
    assert 'href="get_started.html"' in overview
    assert 'href="model_zoo/focus.html#demo-checkpoint"' in overview
    with open(osp.join(out, 'model_zoo', 'focus.html'),
              encoding='utf-8') as f:
        focus = f.read()
    assert 'id="demo-checkpoint"' in focus
    assert 'href="../method.html"' in focus


# packages whose __all__ is a deprecated alias of names documented elsewhere
DEPRECATED_PACKAGES = ('mmfocus.models.multitask',)


def _api_entries():
    """``{(module, name)}`` of the autodoc entries of docs/en/api/*.rst
    (``.. currentmodule::`` / ``.. automodule::`` then ``.. autoX:: name``)."""
    entries = set()
    for page in glob.glob(osp.join(SRC, 'api', '*.rst')):
        module = None
        with open(page, encoding='utf-8') as f:
            for line in f:
                m = re.match(r'\.\. (currentmodule|automodule|autoclass|'
                             r'autofunction|autodata):: (\S+)', line)
                if not m:
                    continue
                if m.group(1) in ('currentmodule', 'automodule'):
                    module = m.group(2)
                elif '.' in m.group(2):
                    entries.add(tuple(m.group(2).rsplit('.', 1)))
                else:
                    entries.add((module, m.group(2)))
    return entries


def test_api_pages_document_every_public_name():
    """Every name in the ``__all__`` of an mmfocus package has an entry on
    an API page, under the package itself or under the package (parent or
    subpackage) that re-exports it; the build (``-W``) checks that each
    entry imports."""
    import importlib
    import inspect
    import pkgutil
    import warnings

    import mmfocus
    entries = _api_entries()
    documented = {}
    for module, name in entries:
        documented.setdefault(name, set()).add(module)
    missing = []
    with warnings.catch_warnings():  # walk_packages imports the old paths
        warnings.simplefilter('ignore', DeprecationWarning)
        packages = [info.name for info in pkgutil.walk_packages(
            mmfocus.__path__, 'mmfocus.') if info.ispkg and
            info.name not in DEPRECATED_PACKAGES]
    for pkg in packages:
        mod = importlib.import_module(pkg)
        for name in getattr(mod, '__all__', ()):
            if inspect.ismodule(getattr(mod, name)):
                continue
            where = documented.get(name, set())
            if not any(m == pkg or pkg.startswith(m + '.') or
                       m.startswith(pkg + '.') for m in where):
                missing.append(f'{pkg}.{name}')
    assert not missing, (
        'public names (__all__) without an entry in docs/en/api/*.rst: '
        f'{missing}')
