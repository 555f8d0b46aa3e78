# Copyright (c) mmfocus contributors.
"""Sphinx configuration of the mmfocus documentation (English).

Build (offline; no extension fetches anything)::

    pip install -r requirements/docs.txt
    sphinx-build -W --keep-going -n -b html docs/en work_dirs/docs/html

The pages are Markdown, parsed by MyST, except the API reference
(``api/*.rst``), which autodoc / autosummary fill from the docstrings of the
public names (each package's ``__all__``), so mmfocus must import.
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

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.autosummary',
    'sphinx.ext.napoleon',
]
source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']
language = 'en'

# MyST: '$$' maths and ':::' fences are not used; heading anchors for
# ``page.md#section`` links down to level 3.
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']

# API reference (api/*.rst): Google-style docstrings (napoleon); the
# autosummary tables only link to the autodoc entries on the same page (no
# generated stub files in the source tree).
autosummary_generate = False
autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
autodoc_typehints_format = 'short'
autodoc_preserve_defaults = True
# a member without its own docstring is left out, not given torch's or
# mmengine's (``forward``: "Define the computation performed at every call")
autodoc_inherit_docstrings = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
python_use_unqualified_type_names = True

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


def _from_docstring(node) -> bool:
    """Whether a node is part of what autodoc / autosummary put on an API
    page (an entry's signature and docstring, a module docstring, a summary
    line), not of the pages' own text."""
    from docutils.utils import get_source_line
    from sphinx import addnodes
    source = get_source_line(node)[0] or ''
    if ':docstring of ' in source or source.endswith('<autosummary>'):
        return True
    while node is not None:
        if isinstance(node, addnodes.desc):
            return True
        node = node.parent
    return False


def _resolve_short_py_reference(app, env, node, contnode):
    """Resolve a docstring's reference written relative to its own module
    (``CARHead.car_maps``, ``.sources``) or through a re-export
    (``mmfocus.evaluation.ForgeryMetric``, documented as
    ``mmfocus.evaluation.metrics.ForgeryMetric``), when it names exactly one
    object documented on an API page."""
    from sphinx.util.nodes import make_refnode
    if node.get('refdomain') != 'py' or not _from_docstring(node):
        return None  # the pages' own references are written in full
    py = env.domains['py']
    target = node.get('reftarget', '').lstrip('.~')
    types = set(py.objtypes_for_role(node.get('reftype', '')) or ())
    objects = {name: obj for name, obj in py.objects.items()
               if not obj.aliased and obj.objtype in types}
    hits = [n for n in objects if n == target or n.endswith('.' + target)]
    if not hits and '.' in target:
        pkg, _, last = target.rpartition('.')
        hits = [n for n in objects
                if n.startswith(pkg + '.') and n.endswith('.' + last)]
    if len(hits) != 1:
        return None
    obj = objects[hits[0]]
    return make_refnode(app.builder, node['refdoc'], obj.docname,
                        obj.node_id, contnode, hits[0])


def _quiet_undocumented_py_reference(app, domain, node):
    """A docstring's Python reference that names nothing documented here
    (torch, mmengine or numpy types: there are no intersphinx inventories
    offline; private helpers, submodules) stays plain text. In the pages'
    own text an unresolved reference is still an error."""
    return domain is not None and domain.name == 'py' and \
        _from_docstring(node)


def _data_docstring(app, what, name, obj, options, lines):
    """A constant's doc is its ``#:`` comment where it is defined (autodoc
    only reads the module it documents it in, often a package re-exporting
    it), never the docstring of its type (``dict``, ``tuple``,
    ``Registry``)."""
    import sys
    from sphinx.pycode import ModuleAnalyzer
    from sphinx.util.docstrings import prepare_docstring
    type_doc = getattr(type(obj), '__doc__', None)
    if what != 'data' or not type_doc:
        return
    own = [line for line in lines if line.strip()][:1]
    if own and own != [line for line in prepare_docstring(type_doc)
                       if line.strip()][:1]:
        return  # a ``#:`` comment in the documented module
    lines[:] = []
    attr = name.rpartition('.')[2]
    for modname, mod in sorted(sys.modules.items()):
        if not modname.startswith('mmfocus.') or \
                getattr(mod, attr, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # noqa: BLE001 (no source: nothing to read)
            continue
        if ('', attr) in docs:
            lines.extend(docs[('', attr)])
            return


def _summary_without_cut_markup(app):
    """autosummary's summary is the docstring's first sentence; where that
    cut falls inside inline markup (``sklearn.metrics.`` + a line break), the
    cut part is dropped instead of rendered as broken markup."""
    from sphinx.ext.autosummary import Autosummary

    def mend(summary):
        if summary.count('``') % 2:  # an inline literal left open
            summary = summary[:summary.rfind('``')].rstrip(' ,;:') + ' ...'
        return summary

    class Summary(Autosummary):

        def get_items(self, names):
            return [(name, sig, mend(summary), real)
                    for name, sig, summary, real in super().get_items(names)]

    app.add_directive('autosummary', Summary, override=True)


def setup(app):
    app.connect('doctree-read', _link_included_files)
    app.connect('missing-reference', _resolve_short_py_reference)
    app.connect('warn-missing-reference', _quiet_undocumented_py_reference)
    app.connect('autodoc-process-docstring', _data_docstring)
    _summary_without_cut_markup(app)
