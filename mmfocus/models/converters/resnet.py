# Copyright (c) mmfocus contributors.
"""Convert torchvision ResNet state dicts to mmpretrain's ``ResNet``.

torchvision's ``resnet18/34/50/...`` and mmpretrain's ``ResNet`` (depth 18,
34, 50, ...) name their parameters the same way (``conv1``, ``bn1``,
``layerN.i.convK`` / ``bnK``, ``downsample.0/1``), so the conversion keeps
the backbone keys, drops the ImageNet classifier ``fc.*`` and checks that
nothing else is left over or missing (tested: equal outputs).
"""
from collections import OrderedDict
from typing import Dict, Iterable

import torch


def convert_torchvision_resnet(state: Dict[str, torch.Tensor],
                               target_keys: Iterable[str],
                               prefix: str = 'backbone.'
                               ) -> 'OrderedDict[str, torch.Tensor]':
    """Map a torchvision ResNet state dict to mmpretrain's layout.

    Args:
        state (dict): torchvision state dict (``{'state_dict': ...}`` /
            ``{'model': ...}`` wrappers are unwrapped).
        target_keys (Iterable[str]): The keys of the mmpretrain ``ResNet``
            of the same depth (``ResNet(depth).state_dict()``).
        prefix (str): Prepended to every key (``'backbone.'`` for an
            ``init_cfg=dict(type='Pretrained', prefix='backbone')``).

    Raises:
        KeyError: the file is not a ResNet of that depth (keys missing or
            unexpected, with the first few named).
    """
    for wrap in ('state_dict', 'model'):
        if wrap in state and isinstance(state[wrap], dict):
            state = state[wrap]
    body = {k: v for k, v in state.items() if not k.startswith('fc.')}
    target = set(target_keys)
    missing, unexpected = target - set(body), set(body) - target
    if missing or unexpected:
        raise KeyError(
            'not a torchvision ResNet of this depth: missing '
            f'{sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}')
    return OrderedDict((prefix + k, v) for k, v in body.items())
