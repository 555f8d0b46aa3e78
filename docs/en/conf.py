# Copyright (c) mmfocus contributors.
"""Sphinx configuration of the mmfocus documentation (English).

Build (offline; no extension fetches anything)::

    pip install -r requirements/docs.txt
    sphinx-build -W --keep-going -n -b html docs/en work_dirs/docs/html

The pages are Markdown, parsed by MyST.
``tests/test_docs/test_sphinx_build.py`` runs the same build with warnings
as errors.
"""
import os
import os.path as osp
import sys

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)

project = 'mmfocus'
copyright = '2026, mmfocus contributors'
author = 'mmfocus contributors'


def _version() -> str:
    """``__version__`` of ``mmfocus/version.py`` (read, not imported)."""
    path = osp.join(ROOT, 'mmfocus', 'version.py')
    scope = {}
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            exec(compile(f.read(), path, 'exec'), scope)
    return scope.get('__version__', 'unknown')


version = release = _version()

extensions = ['myst_parser']
source_suffix = {'.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']
language = 'en'

# MyST: '$$' maths and ':::' fences are not used; heading anchors for
# ``page.md#section`` links down to level 3.
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']

# No network: no intersphinx inventories, no remote theme assets.
intersphinx_mapping = {}
html_theme = os.environ.get('MMFOCUS_DOCS_THEME', 'alabaster')
html_static_path = []
html_title = f'mmfocus {release}'
html_show_sourcelink = False

# Markdown files outside docs/en that pages include (so that links to them,
# from the docs or from README.md, land on the including page).
INCLUDED = {
    'README.md': 'overview',
    'configs/focus/README.md': 'model_zoo/focus',
    'configs/multitask/README.md': 'model_zoo/multitask',
}


def _link_included_files(app, doctree):
    """Point links to ``INCLUDED`` files at the pages that include them.

    MyST resolves ``[x](../../configs/focus/README.md)`` to a document
    outside the source dir, and a README link such as
    ``configs/focus/README.md#demo-checkpoint`` relative to the including
    page; both become references to the including page.
    """
    from sphinx import addnodes
    src = osp.abspath(app.srcdir)
    for node in doctree.findall(addnodes.pending_xref):
        if node.get('reftype') != 'myst':
            continue
        target = node.get('reftarget', '')
        anchor = node.get('reftargetid')
        if node.get('refdomain') == 'doc':
            path = osp.normpath(osp.join(src, target)) + '.md'
        elif node.get('refdomain') is None and '.md' in target:
            target, _, anchor = target.partition('#')
            path = osp.normpath(osp.join(ROOT, target))
        else:
            continue
        doc = INCLUDED.get(osp.relpath(path, ROOT).replace(os.sep, '/'))
        if doc:
            node['refdomain'] = 'doc'
            node['reftarget'] = doc
            node['reftargetid'] = anchor or None


def setup(app):
    app.connect('doctree-read', _link_included_files)
