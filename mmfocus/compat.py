# Copyright (c) mmfocus contributors.
"""The few fixes the tested stack needs, in one place.

Each fix is small, idempotent and documented in docs/en/notes/compat.md:

1. ``mmcv._ext``: mmcv-lite ships no compiled ops, but ``import mmseg.models``
   reaches ``mmcv.ops`` which loads ``mmcv._ext``. A placeholder module whose
   kernels raise ``NotImplementedError`` lets the pure-PyTorch parts import.
   mmfocus uses no compiled op.
2. ``torch.load`` on torch >= 2.6 defaults to ``weights_only=True`` and
   rejects mmengine's own resume checkpoints: ``HistoryBuffer`` pickles its
   default statistics methods through ``getattr``. We pickle only custom
   methods (the defaults are restored by ``__setstate__`` anyway) and
   allow-list ``HistoryBuffer`` and numpy arrays for the safe unpickler,
   instead of turning ``weights_only`` off, so every checkpoint mmfocus
   writes, and plain weight files, load safely (a resume checkpoint written
   by plain mmengine does not: it is refused, see docs/en/faq.md).
3. DDP on CPU: mmengine's ``init_dist`` always calls ``torch.cuda.set_device``
   and wraps models with ``device_ids=[LOCAL_RANK]``;
   :func:`setup_cpu_distributed` initialises ``gloo`` first and wraps with
   ``device_ids=None``.
4. ``transformers`` installed but not importable as mmpretrain expects (a
   version mismatch): mmpretrain then defines its BLIP classes on ``None``
   bases and ``import mmpretrain.models`` fails with ``TypeError: NoneType
   takes no arguments``. mmfocus needs none of mmpretrain's multi-modal
   models; when the names mmpretrain imports from
   ``transformers.modeling_utils`` cannot be imported, mmpretrain's multi-modal switch is turned off before
   ``mmpretrain.models`` is imported (it then registers placeholders).
5. mmengine's local checkpoint loader (what the Runner uses for ``resume``,
   ``load_from`` and ``init_cfg=dict(type='Pretrained')``) calls
   ``torch.load`` and lets its errors through without the file name: a
   truncated file, a JSON file or a refused (malicious) pickle gave a long
   traceback, and PyTorch's advice to retry with ``weights_only=False``.
   The ``''`` (local path) scheme of mmengine's ``CheckpointLoader`` is
   routed through :func:`mmfocus.utils.checkpoint.load_checkpoint_file`:
   the same safe load (``weights_only=True``), one error naming the file.
"""
import importlib.machinery
import importlib.util
import os
import sys
import types
from mmfocus.utils.checkpoint import load_checkpoint_file

_APPLIED = False


class _MissingExt(types.ModuleType):
    """Placeholder for the compiled ``mmcv._ext`` of the full mmcv."""

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)

        def _missing(*args, **kwargs):
            raise NotImplementedError(
                f'mmcv compiled op "{name}" is not available: mmfocus runs on '
                'mmcv-lite (no compiled ops). Install the full mmcv to use it.')

        _missing.__name__ = name
        return _missing


def _install_mmcv_ext_placeholder() -> None:
    try:
        import mmcv  # noqa: F401
    except ImportError:
        return
    if 'mmcv._ext' in sys.modules:
        return
    if importlib.util.find_spec('mmcv._ext') is not None:
        return  # the full mmcv is installed
    mod = _MissingExt('mmcv._ext')
    mod.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
    mod.__file__ = '<mmfocus placeholder>'
    sys.modules['mmcv._ext'] = mod


def _allow_mmengine_checkpoint_types() -> None:
    import torch
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4: weights_only was opt-in
        return
    import numpy as np
    from mmengine.logging import HistoryBuffer

    if not getattr(HistoryBuffer, '_mmfocus_getstate', False):
        defaults = ('min', 'max', 'current', 'mean')

        def __getstate__(self) -> dict:
            state = {k: v for k, v in self.__dict__.items()
                     if k != 'statistics_methods'}
            custom = {k: v for k, v in self._statistics_methods.items()
                      if k not in defaults}
            if custom:  # user-registered methods: pickled as before
                state['statistics_methods'] = custom
            return state

        HistoryBuffer.__getstate__ = __getstate__
        HistoryBuffer._mmfocus_getstate = True
    safe = [HistoryBuffer, np.dtype, np.ndarray]
    try:
        from numpy.core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 2 moved it; the old path still resolves
        from numpy._core.multiarray import _reconstruct, scalar
    safe += [_reconstruct, scalar]
    # numpy 2 pickles dtypes by their class (numpy.dtypes.Float64DType ...)
    dtypes_mod = getattr(np, 'dtypes', None)
    if dtypes_mod is not None:
        safe += [getattr(dtypes_mod, n) for n in dir(dtypes_mod)
                 if n.endswith('DType')]
    add(safe)


def _disable_broken_multimodal() -> None:
    if 'mmpretrain.models' in sys.modules:
        return
    if importlib.util.find_spec('transformers') is None:
        return  # mmpretrain sees no transformers and skips multi-modal
    try:  # the names mmpretrain's BLIP imports (newer transformers moved
        # the helpers to transformers.pytorch_utils)
        from transformers.modeling_utils import (  # noqa: F401
            PreTrainedModel, apply_chunking_to_forward,
            find_pruneable_heads_and_indices, prune_linear_layer)
        return
    except Exception:  # any import-time failure of transformers
        pass
    # ``import mmpretrain`` already imports its models: load the small
    # dependency module alone first (the package import then reuses it
    # from sys.modules) and switch multi-modal off there.
    name = 'mmpretrain.utils.dependency'
    dep = sys.modules.get(name)
    if dep is None:
        spec = importlib.util.find_spec('mmpretrain')
        if spec is None or not spec.submodule_search_locations:
            return
        path = os.path.join(list(spec.submodule_search_locations)[0],
                            'utils', 'dependency.py')
        if not os.path.isfile(path):
            return
        dep_spec = importlib.util.spec_from_file_location(name, path)
        dep = importlib.util.module_from_spec(dep_spec)
        sys.modules[name] = dep
        try:
            dep_spec.loader.exec_module(dep)
        except Exception:
            del sys.modules[name]
            return
    dep.WITH_MULTIMODAL = False


def _route_mmengine_local_loads() -> None:
    from mmengine.runner.checkpoint import CheckpointLoader
    current = CheckpointLoader._schemes.get('')
    if getattr(current, '_mmfocus', False):
        return

    def load_from_local(filename, map_location):
        """mmengine's local loader, through mmfocus' safe, clear one."""
        return load_checkpoint_file(os.path.expanduser(filename),
                                    map_location=map_location)

    load_from_local._mmfocus = True
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local,
                                     force=True)


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """Prepare ``cfg`` for DDP on CPU (gloo) when no GPU is present.

    Call before building the Runner. Returns True if it changed anything.
    """
    import torch

    from mmfocus.utils.dist import init_dist
    if launcher == 'none' or torch.cuda.is_available():
        return False
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    init_dist(launcher)  # gloo: no GPU here
    return True


def apply() -> None:
    """Apply the import-time fixes (1, 2, 4 and 5). Safe to call
    repeatedly."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    _install_mmcv_ext_placeholder()
    try:
        _allow_mmengine_checkpoint_types()
    except ImportError:
        pass
    _disable_broken_multimodal()
    try:
        _route_mmengine_local_loads()
    except ImportError:
        pass


apply()
