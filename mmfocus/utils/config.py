# Copyright (c) mmfocus contributors.
"""Config helpers shared by the tools."""
import argparse
import difflib
import inspect
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

from mmengine.config import Config, ConfigDict, DictAction


def _has_path(cfg, dotted: str) -> bool:
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in dotted.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit():
            idx = int(part)
            if idx >= len(node):
                return False
            node = node[idx]
        elif isinstance(node, (dict, ConfigDict)) and part in node:
            node = node[part]
        else:
            return False
    return True


def _candidates(cfg, prefix: str = ''):
    if isinstance(cfg, (dict, ConfigDict)):
        for k, v in cfg.items():
            path = f'{prefix}{k}'
            yield path
            yield from _candidates(v, path + '.')


def merge_cfg_options(cfg: Config, options: Dict, allow_new: bool = False
                      ) -> None:
    """Merge ``--cfg-options``, refusing keys the config does not have.

    A typo such as ``model.backbone.drop_path=0.1`` would otherwise be added
    silently and change nothing.

    Raises:
        KeyError: naming the unknown key and the closest existing ones.
    """
    if not options:
        return
    if not allow_new:
        for key in options:
            if not _has_path(cfg, key):
                near = difflib.get_close_matches(
                    key, list(_candidates(cfg._cfg_dict.to_dict())), n=3)
                hint = f'; did you mean {near}?' if near else ''
                raise KeyError(f'unknown config key "{key}" in --cfg-options'
                               f'{hint} (use --allow-new-keys to add it)')
    cfg.merge_from_dict(options)


def parse_cfg_options(options: Optional[Sequence[str]]) -> Dict:
    """``KEY=VALUE`` strings (a ``--cfg-options nargs='+'`` list) as the
    dict that :func:`merge_cfg_options` takes.

    The values are parsed by mmengine's :class:`~mmengine.config.DictAction`
    (ints, floats, booleans, ``None``, lists and tuples), so a list of
    strings passed to the Python API reads exactly as on a command line.

    Args:
        options (Sequence[str], optional): E.g. ``['a.b=1', 'c=[1,2]']``.

    Returns:
        dict: Dotted key -> value; empty for no options.
    """
    if not options:
        return {}
    ns = argparse.Namespace()
    DictAction(option_strings=[], dest='cfg_options')(None, ns, list(options))
    return ns.cfg_options


# --------------------------------------------------------------- loading
class ConfigFileError(ValueError):
    """A config file that cannot be read; the message starts with
    ``<file>:<line>:`` (printed as is by :func:`mmfocus.utils.cli.cli_main`).
    """
    located = True


def _check_py_syntax(path: str) -> None:
    """Compile a Python config with its own name, so a syntax error names
    the file and line (mmengine's ``ast.parse`` reports ``<unknown>``)."""
    if not path.endswith('.py'):
        return
    with open(path, encoding='utf-8') as f:
        source = f.read()
    try:
        compile(source, path, 'exec', dont_inherit=True)
    except SyntaxError as e:
        raise ConfigFileError(
            f'{path}:{e.lineno}: {type(e).__name__}: {e.msg}') from None


def read_config_file(path: str) -> Config:
    """``Config.fromfile`` with one clear error for a broken file.

    A syntax error in the config or in one of its ``_base_`` files raises
    :class:`ConfigFileError` ``'<file>:<line>: SyntaxError: <message>'``.

    Args:
        path (str): The config file (must exist).

    Returns:
        Config: The config.
    """
    _check_py_syntax(path)
    try:
        return Config.fromfile(path)
    except SyntaxError as e:  # in a _base_ file: mmengine parses it
        # without its name ('<unknown>')
        for base in _base_files(path):
            _check_py_syntax(base)  # raises naming the file and line
        line = f':{e.lineno}' if e.lineno else ''
        raise ConfigFileError(f'{path}{line}: {type(e).__name__}: '
                              f'{e.msg} (in this file or a _base_ file)'
                              ) from None


def _base_files(path: str, seen=None) -> list:
    """The local ``_base_`` files of a Python config, recursively (the
    ones that parse; ``package::`` bases are skipped)."""
    import ast
    seen = set() if seen is None else seen
    out = []
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return out
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_'
                for t in node.targets):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                continue
            for b in [bases] if isinstance(bases, str) else list(bases):
                if not isinstance(b, str) or '::' in b:
                    continue
                full = osp.abspath(osp.join(osp.dirname(path), b))
                if full in seen or not osp.isfile(full):
                    continue
                seen.add(full)
                out.append(full)
                out.extend(_base_files(full, seen))
    return out


# --------------------------------------------------------- value types
def _type_name(hint) -> str:
    return getattr(hint, '__name__', None) or str(hint).replace(
        'typing.', '')


def _matches(value, hint) -> bool:
    """Whether a config value fits a constructor's type hint. Hints this
    does not understand (classes, callables, ``Any``) accept anything."""
    import typing
    if hint is typing.Any or hint is inspect.Parameter.empty:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union:
        return any(_matches(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value,
                                                                  bool)
    if hint is str:
        return isinstance(value, str)
    import collections.abc as cabc
    base = origin or hint
    if base in (dict, cabc.Mapping, cabc.MutableMapping):
        return isinstance(value, dict)
    if base in (list, tuple, cabc.Sequence, cabc.Iterable):
        if isinstance(value, str):  # a str is a Sequence[str] only
            return base in (cabc.Sequence, cabc.Iterable) and (
                not args or args[0] is str)
        if not isinstance(value, (list, tuple)):
            return False
        if not args:
            return True
        if base is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return len(args) == len(value) and all(
                _matches(v, a) for v, a in zip(value, args))
        return all(_matches(v, args[0]) for v in value)
    return True


# what the nested dicts under these keys are built from
_CHILD_REGISTRY = {'pipeline': 'TRANSFORMS', 'dataset': 'DATASETS',
                   'datasets': 'DATASETS', 'init_cfg': None}
# top-level config keys -> the registry their ``type`` dicts come from
_SECTIONS = {'model': 'MODELS', 'custom_hooks': 'HOOKS',
             'default_hooks': 'HOOKS'}


def _lookup(registry, type_name):
    if type_name.startswith('mmfocus.'):
        type_name = type_name[len('mmfocus.'):]
    if '.' in type_name:  # another package's class: not ours to check
        return None
    try:
        return registry.get(type_name)
    except Exception:  # noqa: BLE001 - unknown types fail later, clearly
        return None


def _check_node(node, path: str, registry_name, errors: list) -> None:
    import mmfocus.registry as regs
    if isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            _check_node(v, f'{path}.{i}', registry_name, errors)
        return
    if not isinstance(node, dict):
        return
    cls = None
    if registry_name and isinstance(node.get('type'), str):
        cls = _lookup(getattr(regs, registry_name), node['type'])
    hints = {}
    if inspect.isclass(cls) and cls.__module__.startswith('mmfocus.'):
        import typing
        try:
            hints = typing.get_type_hints(cls.__init__)
        except Exception:  # noqa: BLE001 - unresolvable hints: not checked
            hints = {}
    for key, value in node.items():
        if key == 'type':
            continue
        hint = hints.get(key)
        if hint is not None and not _matches(value, hint):
            errors.append(
                f'config key {path}.{key}: {cls.__name__} expects '
                f'{_type_name(hint)}, got {type(value).__name__} {value!r}')
        child = _CHILD_REGISTRY.get(key, registry_name)
        if isinstance(value, (dict, list, tuple)):
            _check_node(value, f'{path}.{key}', child, errors)


def check_config_types(cfg: Config) -> None:
    """Check the values of a config against the type hints of the mmfocus
    classes they configure, before anything is built.

    ``model.neck.k='four'`` otherwise fails deep inside ``nn.Conv2d`` with
    ``TypeError: not all arguments converted during string formatting``.
    Checked: ``model`` (MODELS), the ``*_dataloader`` datasets (DATASETS)
    and their ``pipeline`` (TRANSFORMS), the ``*_evaluator`` metrics
    (METRICS) and the hooks (HOOKS); only classes of mmfocus, only hints of
    plain types (``int``, ``float``, ``bool``, ``str``, ``dict``,
    sequences, ``Optional``/``Union``/``Literal`` of those).

    Raises:
        TypeError: naming the key, e.g. ``config key model.neck.k: CARPNeck
            expects int, got str 'four'``.
    """
    errors: list = []
    data = cfg._cfg_dict.to_dict() if isinstance(cfg, Config) else dict(cfg)
    for key, value in data.items():
        if key in _SECTIONS:
            _check_node(value, key, _SECTIONS[key], errors)
        elif key.endswith('_dataloader') and isinstance(value, dict):
            _check_node(value.get('dataset'), f'{key}.dataset', 'DATASETS',
                        errors)
        elif key.endswith('_evaluator'):
            _check_node(value, key, 'METRICS', errors)
    if errors:
        more = f' (and {len(errors) - 1} more)' if len(errors) > 1 else ''
        raise TypeError(errors[0] + more)


def drop_validation(cfg: Config) -> None:
    """Train without validation: no val loop, dataloader or evaluator, and
    a ``val_interval`` that is never reached (the edit ``tools/train.py
    --no-validate`` and the map protocol make)."""
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if cfg.get('train_cfg'):
        cfg.train_cfg['val_interval'] = 10**9


def drop_hooks(cfg: Config, types) -> list:
    """Remove the ``custom_hooks`` whose ``type`` is in ``types``; returns
    the hooks kept (also set on ``cfg``)."""
    types = set(types)
    kept = [h for h in cfg.get('custom_hooks', []) or []
            if h.get('type') not in types]
    cfg.custom_hooks = kept
    return kept


def apply_amp(cfg, amp: str) -> str:
    """Switch ``cfg.optim_wrapper`` to mixed precision; return the dtype.

    ``bf16`` -> :class:`mmfocus.engine.AutocastOptimWrapper` (no
    ``GradScaler``, so no host sync per step); ``fp16`` -> mmengine's
    ``AmpOptimWrapper`` with dynamic loss scaling (CUDA only). Models with
    a ``channels_last`` option (the EfficientNet evaluation model) get it.
    """
    import torch
    cuda = torch.cuda.is_available()
    if amp == 'auto':
        amp = 'bf16' if (not cuda or torch.cuda.is_bf16_supported()) \
            else 'fp16'
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper not in ('OptimWrapper', 'AmpOptimWrapper',
                       'AutocastOptimWrapper'):
        raise ValueError(f'--amp with optim_wrapper type {wrapper}: only '
                         'OptimWrapper configs can be switched')
    cfg.optim_wrapper.pop('loss_scale', None)
    cfg.optim_wrapper.pop('dtype', None)
    if amp == 'bf16':
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
    elif not cuda:
        print('warning: --amp fp16 needs a GPU (mmengine AmpOptimWrapper); '
              'training in fp32 on CPU', file=sys.stderr)
        cfg.optim_wrapper.type = 'OptimWrapper'
        return 'fp32'
    else:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if 'channels_last' in cfg.model:
        cfg.model.channels_last = True
    return amp
