# Copyright (c) mmfocus contributors.
"""Convert public ViT checkpoints (timm / DeiT) to FoCusViT state dicts."""
from collections import OrderedDict
from typing import Dict

import torch

_DROP_PREFIXES = ('head.', 'head_dist.', 'fc_norm.', 'pre_logits.')


def convert_timm_vit(state: Dict[str, torch.Tensor],
                     pos_embed: str = 'sincos') -> 'OrderedDict[str, Tensor]':
    """Map a timm ``VisionTransformer`` / DeiT state dict to :class:`FoCusViT`.

    Parameter names are shared (FoCusViT is built from timm's blocks), so the
    conversion drops what FoCus does not use: the classifier head(s), DeiT's
    distillation token, and the learned position embedding when FoCus uses
    its fixed sin-cos encoding (``pos_embed='sincos'``, the paper's choice).

    Args:
        state (dict): timm/DeiT state dict (a ``{'model': ...}`` wrapper is
            unwrapped).
        pos_embed (str): ``'sincos'`` or ``'learned'``. Defaults to
            ``'sincos'``.

    Returns:
        OrderedDict: The backbone state dict.
    """
    if 'model' in state and isinstance(state['model'], dict):
        state = state['model']
    if 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    if 'patch_embed.proj.weight' not in state:
        raise KeyError('not a timm/DeiT ViT checkpoint: no '
                       '"patch_embed.proj.weight" key')
    has_dist = 'dist_token' in state
    out = OrderedDict()
    for k, v in state.items():
        if k.startswith(_DROP_PREFIXES) or k == 'dist_token':
            continue
        if k == 'pos_embed':
            if pos_embed == 'sincos':
                continue
            if has_dist:  # [cls, dist, patches] -> [cls, patches]
                v = torch.cat([v[:, :1], v[:, 2:]], dim=1)
        out[k] = v
    return out
