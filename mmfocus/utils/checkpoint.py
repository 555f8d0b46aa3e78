# Copyright (c) mmfocus contributors.
"""Checkpoint reading with clear errors, and checks against a model."""
import os.path as osp
from typing import Dict

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
