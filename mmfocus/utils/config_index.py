# Copyright (c) mmfocus contributors.
"""Find the configs that ship with mmfocus by name.

A source checkout keeps them in ``configs/`` beside the package; a wheel
carries them in ``mmfocus/.mim/configs`` (as mmpretrain's wheels do), where
``mim`` looks for them too. ``find_config('focus/vit-s_ffpp-lq.py')``,
``find_config('focus/vit-s_ffpp-lq')`` and ``find_config('vit-s_ffpp-lq')``
(a unique file name) all name the same file.
"""
import difflib
import fnmatch
import os
import os.path as osp
from typing import List, Optional

_PKG_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))


def checkout_root() -> Optional[str]:
    """The source checkout mmfocus runs from (the folder holding
    ``configs/`` beside the package), or None for an installed wheel."""
    root = osp.dirname(_PKG_DIR)
    return root if osp.isdir(osp.join(root, 'configs')) else None


def _demo_checkpoint() -> str:
    rel = osp.join('checkpoints', 'focus_vit-demo_demo-sbi.pth')
    root = checkout_root()
    # a wheel carries no checkpoint: then relative to the working folder
    return osp.join(root, rel) if root else rel


def config_roots() -> List[str]:
    """The folders that hold the shipped configs, in the order they are
    searched: the wheel's ``mmfocus/.mim/configs``, then a source
    checkout's ``configs/`` (the folder beside the package)."""
    roots = []
    for root in (osp.join(_PKG_DIR, '.mim', 'configs'),
                 osp.join(osp.dirname(_PKG_DIR), 'configs')):
        if osp.isdir(root) and osp.realpath(root) not in [
                osp.realpath(r) for r in roots]:
            roots.append(root)
    return roots


def list_configs(pattern: str = '*', root: Optional[str] = None
                 ) -> List[str]:
    """The shipped configs, as names relative to the config root.

    ``_base_`` files are not configs of their own and are left out.

    Args:
        pattern (str): An ``fnmatch`` pattern on the relative name, e.g.
            ``'focus/*'`` or ``'*ffpp-lq*'``. Defaults to all.
        root (str, optional): Search this folder instead of
            :func:`config_roots`' first.

    Returns:
        list[str]: Sorted names such as ``'focus/vit-s_ffpp-lq.py'``.
    """
    if root is None:
        roots = config_roots()
        if not roots:
            return []
        root = roots[0]
    names = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if d != '_base_'
                             and not d.startswith(('.', '__')))
        for f in filenames:
            if f.endswith('.py'):
                rel = osp.relpath(osp.join(dirpath, f), root)
                names.append(rel.replace(os.sep, '/'))
    return sorted(n for n in names if fnmatch.fnmatch(n, pattern))


def find_config(name: str) -> str:
    """The path of a config given as a path or by its shipped name.

    An existing file is returned as given. Otherwise ``name`` (an optional
    leading ``configs/`` and ``.py`` may be left out) is looked up in
    :func:`config_roots`: first as a relative name, then as a file name
    that must be unique among the shipped configs.

    Raises:
        FileNotFoundError: ``'config not found: <name>'``, with the closest
            shipped names, or the candidates when a file name is ambiguous.
    """
    if osp.isfile(name):
        return name
    rel = name.replace('\\', '/')
    if rel.startswith('configs/'):
        rel = rel[len('configs/'):]
    if not rel.endswith('.py'):
        rel += '.py'
    roots = config_roots()
    for root in roots:
        path = osp.join(root, rel)
        if osp.isfile(path):
            return path
    if roots and '/' not in rel:
        names = list_configs(root=roots[0])
        same = [n for n in names if n.rsplit('/', 1)[-1] == rel]
        if len(same) == 1:
            return osp.join(roots[0], same[0])
        if len(same) > 1:
            raise FileNotFoundError(
                f'config not found: {name} (the name is ambiguous; give one '
                f'of {same})')
    hint = ''
    if roots:
        near = difflib.get_close_matches(rel, list_configs(root=roots[0]),
                                         n=3, cutoff=0.7)
        if near:
            hint = f'; did you mean {near}?'
    raise FileNotFoundError(f'config not found: {name}{hint}')


def get_config(name: str, cfg_options=None, allow_new_keys: bool = False):
    """Read a shipped config (or any config file) by name.

    Example:
        >>> import mmfocus
        >>> cfg = mmfocus.get_config('focus/vit-s_ffpp-lq.py')
        >>> cfg.model.type
        'FoCus'

    Args:
        name (str): A path or a shipped name (see :func:`find_config`).
        cfg_options (list[str] | dict, optional): ``KEY=VALUE`` overrides,
            checked as ``--cfg-options`` are (unknown keys raise).
        allow_new_keys (bool): Let the overrides add keys.

    Returns:
        mmengine.Config: The config, its ``filename`` the resolved path.
    """
    from .config import (merge_cfg_options, parse_cfg_options,
                         read_config_file)
    cfg = read_config_file(find_config(name))
    if cfg_options:
        options = (dict(cfg_options) if isinstance(cfg_options, dict)
                   else parse_cfg_options(cfg_options))
        merge_cfg_options(cfg, options, allow_new=allow_new_keys)
    return cfg


#: the demo model that tools/infer.py and the app default to: the shipped
#: config (a checkout's or a wheel's) and the checkout's shipped checkpoint
DEMO_CONFIG_NAME = 'focus/vit-demo_demo-sbi.py'
try:
    DEMO_CONFIG = find_config(DEMO_CONFIG_NAME)
except FileNotFoundError:  # neither a checkout nor a wheel with configs
    DEMO_CONFIG = DEMO_CONFIG_NAME
DEMO_CHECKPOINT = _demo_checkpoint()
