# Copyright (c) mmfocus contributors.
"""Convert timm ``legacy_xception`` state dicts to mmfocus' ``Xception``.

:class:`mmfocus.models.backbones.Xception` with ``arch='legacy'`` keeps
timm's module names (``conv1``, ``bn1``, ``block1.rep.0.conv1``,
``block1.skip``, ..., ``conv4.pointwise``, ``bn4``), so the conversion
drops the ImageNet classifier (timm's ``fc.*``, or ``last_linear.*`` in
the Cadene / FaceForensics++ files), turns the 2-D pointwise weights of
those older files into ``1 x 1`` convolutions, and checks the result
against the target backbone (keys and shapes). Tested: equal features and
logits on a randomly initialised timm model.
"""
from collections import OrderedDict
from typing import Mapping, Optional

import torch

_HEADS = ('fc.', 'last_linear.')
_WRAPPERS = ('state_dict', 'model', 'module')


def convert_timm_xception(state: Mapping[str, torch.Tensor],
                          target: Optional[Mapping[str, torch.Tensor]] = None,
                          prefix: str = 'backbone.'
                          ) -> 'OrderedDict[str, torch.Tensor]':
    """Map a timm ``legacy_xception`` state dict to mmfocus' layout.

    Args:
        state (Mapping[str, torch.Tensor]): timm (or Cadene
            ``pretrainedmodels``) Xception state dict; ``{'state_dict':
            ...}`` / ``{'model': ...}`` / ``{'module': ...}`` wrappers and a
            DataParallel ``module.`` key prefix are removed.
        target (Mapping[str, torch.Tensor], optional): The state dict of
            the mmfocus ``Xception`` to load into (e.g.
            ``Xception('legacy').state_dict()``): every key must be matched
            with the same shape and nothing may be left over. None skips
            the check. Defaults to None.
        prefix (str): Prepended to every key (``'backbone.'`` for
            ``init_cfg=dict(type='Pretrained', prefix='backbone', ...)``;
            ``''`` for ``Xception.load_state_dict``).
            Defaults to 'backbone.'.

    Returns:
        OrderedDict[str, torch.Tensor]: The backbone weights.

    Raises:
        KeyError: not an Xception of the target's layout (missing or
            unexpected keys, the first few named).
        ValueError: a tensor's shape differs from the target's (another
            width).
    """
    for wrap in _WRAPPERS:
        inner = state.get(wrap) if isinstance(state, Mapping) else None
        if isinstance(inner, Mapping):
            state = inner
            break
    if not isinstance(state, Mapping) or not state:
        raise KeyError('not an Xception state dict: no tensors')
    if all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    body = OrderedDict()
    for k, v in state.items():
        if k.startswith(_HEADS):
            continue
        if not isinstance(v, torch.Tensor):
            raise KeyError(f'not an Xception state dict: {k!r} is a '
                           f'{type(v).__name__}, not a tensor')
        if k.endswith('pointwise.weight') and v.dim() == 2:
            v = v[:, :, None, None]  # Cadene's Linear-shaped 1x1 convs
        body[k] = v
    if target is not None:
        missing = [k for k in target if k not in body]
        unexpected = [k for k in body if k not in target]
        if missing or unexpected:
            raise KeyError(
                'not a timm legacy_xception of this arch: missing '
                f'{missing[:5]} ({len(missing)}), unexpected '
                f'{unexpected[:5]} ({len(unexpected)})')
        for k, v in target.items():
            if tuple(body[k].shape) != tuple(v.shape):
                raise ValueError(f'{k}: shape {tuple(body[k].shape)} in the '
                                 f'file vs {tuple(v.shape)} in the backbone: '
                                 'not the same arch?')
    return OrderedDict((prefix + k, v) for k, v in body.items())

