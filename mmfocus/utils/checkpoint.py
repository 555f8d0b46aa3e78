# Copyright (c) mmfocus contributors.
"""Checkpoint reading with clear errors, and checks against a model."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

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
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with the file name
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        raise RuntimeError(f'unreadable checkpoint {path}: '
                           f'{type(e).__name__}: {first}') from e


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
                     source: str = 'checkpoint') -> None:
    """Raise one clear error if ``state`` does not fit ``model`` exactly."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
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
                    ignore_keys: Sequence[str] = ()) -> List[str]:
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
    check_state_dict(module, state, source=f'pretrained weights {path}')
    module.load_state_dict(state, strict=True)
    return sorted(state)
