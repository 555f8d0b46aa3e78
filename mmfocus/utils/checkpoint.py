# Copyright (c) mmfocus contributors.
"""Checkpoint reading with clear errors, and checks against a model."""
import os.path as osp
import pickle
import re
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import torch


def load_checkpoint_file(path: str, map_location: str = 'cpu') -> dict:
    """Load a local checkpoint safely (``weights_only=True``).

    mmengine's own checkpoint types are allow-listed by :mod:`mmfocus.compat`.

    Raises:
        FileNotFoundError: the file does not exist.
        RuntimeError: the file is not a readable torch checkpoint.
    """
    if not isinstance(path, str) or path.startswith(('http://', 'https://')):
        raise ValueError(f'mmfocus loads checkpoints from local files only, '
                         f'got {path!r}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        with warnings.catch_warnings():
            # a plain pickle (protocol > 2) warns before it is refused
            warnings.filterwarnings('ignore', message='Detected pickle '
                                    'protocol', category=UserWarning)
            return torch.load(path, map_location=map_location,
                              weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with the file name
        raise RuntimeError(f'unreadable checkpoint {path}: '
                           f'{explain_load_error(e)}') from None


# PyTorch's safe-unpickler errors open with advice to retry with
# ``weights_only=False``, which would run whatever code the file holds.
# mmfocus never loads unsafely, so that advice is dropped from its messages.
_UNSAFE_ADVICE = ('weights only load failed', 'weights_only',
                  'please file an issue', 'check the documentation of '
                  'torch.load', 'trusted source')


def explain_load_error(e: BaseException) -> str:
    """One line saying why ``torch.load(..., weights_only=True)`` failed,
    without PyTorch's advice to retry with ``weights_only=False``.

    Args:
        e (BaseException): The error ``torch.load`` raised.

    Returns:
        str: e.g. ``'the file would run or import posix.system (refused:
        checkpoints are loaded with weights_only=True, never unsafely)'``
        or ``'not a PyTorch checkpoint (UnpicklingError: invalid load key,
        'g'.)'``.
    """
    text = str(e).strip()
    glob = re.search(r'unsupported GLOBAL ([\w.]+)', text) or re.search(
        r'Unsupported global: GLOBAL ([\w.]+)', text)
    if glob:
        return (f'the file would import or run {glob.group(1)} (refused: '
                'mmfocus loads checkpoints as weights only and never '
                'executes code from them)')
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    kept = []
    for ln in lines:
        low = ln.lower()
        if any(a in low for a in _UNSAFE_ADVICE):
            # keep what follows a 'WeightsUnpickler error:' prefix
            tail = ln.split('WeightsUnpickler error:', 1)
            if len(tail) == 2 and tail[1].strip():
                kept.append(tail[1].strip())
            continue
        kept.append(ln)
    detail = kept[0] if kept else ''
    if 'PytorchStreamReader' in detail:  # a cut or damaged zip archive
        detail = detail.split('. This is an internal', 1)[0]
        return f'truncated or corrupt file ({detail})'
    if isinstance(e, pickle.UnpicklingError) or 'Unsupported operand' in \
            detail or 'invalid load key' in detail:
        return ('not a PyTorch checkpoint'
                + (f' ({type(e).__name__}: {detail})' if detail else ''))
    return f'{type(e).__name__}: {detail}' if detail else type(e).__name__


def load_state_dict_file(path: str) -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint file (``state_dict`` key or plain)."""
    ckpt = load_checkpoint_file(path)
    if isinstance(ckpt, dict):
        for key in ('state_dict', 'model', 'module'):
            if key in ckpt and isinstance(ckpt[key], dict):
                ckpt = ckpt[key]
                break
    if not isinstance(ckpt, dict) or not all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        raise RuntimeError(f'{path} holds no state dict of tensors')
    return ckpt


def check_state_dict(model: torch.nn.Module, state: Dict[str, torch.Tensor],
                     source: str = 'checkpoint',
                     new_keys: Sequence[str] = ()) -> None:
    """Raise one clear error if ``state`` does not fit ``model`` exactly
    (``new_keys``: model entries the file may lack, which keep their
    initialisation)."""
    own = model.state_dict()
    upgrade = getattr(model, 'upgrade_state_dict', None)
    if callable(upgrade):  # keys of older versions, renamed when loading
        state = upgrade(dict(state))
    missing = [k for k in own if k not in state and k not in set(new_keys)]
    unexpected = [k for k in state if k not in own]
    shapes = [f'{k}: {tuple(state[k].shape)} vs model {tuple(own[k].shape)}'
              for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing keys (e.g. {missing[:3]})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected keys '
                         f'(e.g. {unexpected[:3]})')
        if shapes:
            parts.append(f'{len(shapes)} shape mismatches (e.g. {shapes[:2]})')
        raise RuntimeError(f'{source} does not match the model '
                           f'{type(model).__name__}: ' + '; '.join(parts))


def strip_prefix(state: Dict[str, torch.Tensor], prefix: str,
                 source: str = 'checkpoint') -> Dict[str, torch.Tensor]:
    """The entries of ``state`` under ``prefix`` (e.g. ``'backbone'``), with
    the prefix removed; one clear error when there are none."""
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    out = {k[len(prefix):]: v for k, v in state.items()
           if k.startswith(prefix)}
    if not out:
        raise RuntimeError(f'{source} has no weights under the prefix '
                           f'{prefix!r} (its keys start with '
                           f'{sorted({k.split(".")[0] for k in state})[:5]})')
    return out


def load_pretrained(module: torch.nn.Module, path: str,
                    prefix: Optional[str] = None,
                    ignore_keys: Sequence[str] = (),
                    new_keys: Sequence[str] = ()) -> List[str]:
    """Load a local pretrained file into ``module``, exactly.

    Every parameter and persistent buffer of ``module`` must come from the
    file with the same shape, and the file may hold nothing else (except
    ``ignore_keys``, e.g. a learned position embedding that a fixed sin-cos
    module does not keep). Anything else raises one error naming the file,
    so that a run never starts from partly random weights without a word.

    Args:
        module (nn.Module): The module to load into.
        path (str): Local checkpoint (plain state dict, or with a
            ``state_dict`` / ``model`` / ``module`` key). Never a URL.
        prefix (str, optional): Take the sub-dict under this prefix, e.g.
            ``'backbone'`` of a whole-detector checkpoint. Defaults to None.
        ignore_keys (Sequence[str]): File keys dropped before the check.
            Defaults to ().
        new_keys (Sequence[str]): Entries of ``module`` that pretrained
            files do not have (e.g. register tokens added to a DeiT): kept
            as initialised when absent from the file. Defaults to ().

    Returns:
        list[str]: The keys loaded.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RuntimeError: unreadable file, empty prefix, or keys/shapes that do
            not match the module.
    """
    state = load_state_dict_file(path)
    if prefix:
        state = strip_prefix(state, prefix, source=path)
    state = {k: v for k, v in state.items() if k not in set(ignore_keys)}
    check_state_dict(module, state, source=f'pretrained weights {path}',
                     new_keys=new_keys)
    module.load_state_dict(state, strict=not any(
        k not in state for k in new_keys))
    return sorted(state)
