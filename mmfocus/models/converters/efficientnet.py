# Copyright (c) mmfocus contributors.
"""Convert torchvision / timm EfficientNet state dicts to mmpretrain's layout.

The three implementations hold the same parameters (EfficientNet-B4: 19,341,616
with the 1000-class head in all three) in the same block order; mmpretrain
merges some stages (B0: 7 stages -> 5 ``layers``), so blocks are matched in
order, and each block's sub-modules by name. What differs is *not* in the
state dict:

* padding: torchvision and timm ``efficientnet_b*`` pad symmetrically
  (``k // 2``); timm ``tf_efficientnet_b*`` (weights ported from the original
  TensorFlow release) and mmpretrain's default use TF "same" padding
  (``Conv2dAdaptivePadding``), which differs at stride-2 convolutions;
* BatchNorm eps: 1e-5 (torchvision, timm non-tf) vs 1e-3 (TF, mmpretrain).

:func:`backbone_kwargs_for` gives the mmpretrain ``EfficientNet`` keyword
arguments that reproduce a source exactly (tested: equal outputs).
"""
import re
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch

# sub-module renames inside one block: (source prefix, mmpretrain prefix)
_TV_EXPAND = [('block.0.0.', 'expand_conv.conv.'),
              ('block.0.1.', 'expand_conv.bn.'),
              ('block.1.0.', 'depthwise_conv.conv.'),
              ('block.1.1.', 'depthwise_conv.bn.'),
              ('block.2.fc1.', 'se.conv1.conv.'),
              ('block.2.fc2.', 'se.conv2.conv.'),
              ('block.3.0.', 'linear_conv.conv.'),
              ('block.3.1.', 'linear_conv.bn.')]
_TV_DS = [('block.0.0.', 'depthwise_conv.conv.'),
          ('block.0.1.', 'depthwise_conv.bn.'),
          ('block.1.fc1.', 'se.conv1.conv.'),
          ('block.1.fc2.', 'se.conv2.conv.'),
          ('block.2.0.', 'linear_conv.conv.'),
          ('block.2.1.', 'linear_conv.bn.')]
_TIMM_EXPAND = [('conv_pw.', 'expand_conv.conv.'), ('bn1.', 'expand_conv.bn.'),
                ('conv_dw.', 'depthwise_conv.conv.'),
                ('bn2.', 'depthwise_conv.bn.'),
                ('se.conv_reduce.', 'se.conv1.conv.'),
                ('se.conv_expand.', 'se.conv2.conv.'),
                ('conv_pwl.', 'linear_conv.conv.'),
                ('bn3.', 'linear_conv.bn.')]
_TIMM_DS = [('conv_dw.', 'depthwise_conv.conv.'),
            ('bn1.', 'depthwise_conv.bn.'),
            ('se.conv_reduce.', 'se.conv1.conv.'),
            ('se.conv_expand.', 'se.conv2.conv.'),
            ('conv_pw.', 'linear_conv.conv.'), ('bn2.', 'linear_conv.bn.')]


def detect_source(state: Dict[str, torch.Tensor]) -> str:
    """``'torchvision'`` or ``'timm'`` from the key layout.

    Raises:
        ValueError: neither layout.
    """
    if 'features.0.0.weight' in state:
        return 'torchvision'
    if 'conv_stem.weight' in state:
        return 'timm'
    raise ValueError('not a torchvision (features.0.0.weight) or timm '
                     '(conv_stem.weight) EfficientNet state dict; first keys: '
                     f'{list(state)[:3]}')


def backbone_kwargs_for(source: str, tf_padding: bool = False) -> dict:
    """mmpretrain ``EfficientNet`` kwargs that reproduce the source network.

    Args:
        source (str): ``'torchvision'`` or ``'timm'``.
        tf_padding (bool): The timm model is a ``tf_efficientnet_*`` (TF
            "same" padding, BN eps 1e-3). Defaults to False.
    """
    if source == 'timm' and tf_padding:
        return dict(conv_cfg=dict(type='Conv2dAdaptivePadding'),
                    norm_cfg=dict(type='BN', eps=1e-3))
    return dict(conv_cfg=None, norm_cfg=dict(type='BN', eps=1e-5))


def _blocks(keys: List[str], pattern: str) -> List[str]:
    """Ordered unique block prefixes matching ``pattern``."""
    out: 'OrderedDict[str, None]' = OrderedDict()
    for k in keys:
        m = re.match(pattern, k)
        if m:
            out[m.group(0)] = None
    return list(out)


def convert_efficientnet(state: Dict[str, torch.Tensor],
                         target_keys: List[str],
                         source: str = 'auto') -> Tuple[dict, str]:
    """Rename an EfficientNet state dict to mmpretrain's key layout.

    Args:
        state (dict): torchvision ``efficientnet_b*`` or timm
            ``[tf_]efficientnet_b*`` state dict.
        target_keys (list[str]): ``state_dict()`` keys of the mmpretrain
            ``EfficientNet`` backbone of the same arch (defines the blocks).
        source (str): ``'torchvision'``, ``'timm'`` or ``'auto'``.

    Returns:
        tuple: (``OrderedDict`` with ``backbone.*`` keys, plus ``head.fc.*``
        when the source has a classifier, the detected source).

    Raises:
        ValueError: the block counts, a block's structure, or a tensor
            shape differ, or source tensors are left unconverted; the
            message names the first offending key.
    """
    if source == 'auto':
        source = detect_source(state)
    state = {
        k[7:] if k.startswith('module.') else k: v
        for k, v in state.items()
    }
    tgt_blocks = _blocks(target_keys, r'layers\.\d+\.\d+\.')
    n_layers = 1 + max(
        int(k.split('.')[1]) for k in target_keys if k.startswith('layers.'))
    if source == 'torchvision':
        src_blocks = _blocks(list(state), r'features\.\d+\.\d+\.')
        src_blocks = [b for b in src_blocks if f'{b}block.0.0.weight' in state]
        last = max(
            int(k.split('.')[1]) for k in state if k.startswith('features.'))
        simple = {
            'features.0.0.': 'layers.0.conv.',
            'features.0.1.': 'layers.0.bn.',
            f'features.{last}.0.': f'layers.{n_layers - 1}.conv.',
            f'features.{last}.1.': f'layers.{n_layers - 1}.bn.',
            'classifier.1.': 'head.fc.'
        }
        expand_marker, tables = 'block.3.0.weight', (_TV_EXPAND, _TV_DS)
    elif source == 'timm':
        src_blocks = _blocks(list(state), r'blocks\.\d+\.\d+\.')
        simple = {
            'conv_stem.': 'layers.0.conv.',
            'bn1.': 'layers.0.bn.',
            'conv_head.': f'layers.{n_layers - 1}.conv.',
            'bn2.': f'layers.{n_layers - 1}.bn.',
            'classifier.': 'head.fc.'
        }
        expand_marker, tables = 'conv_pwl.weight', (_TIMM_EXPAND, _TIMM_DS)
    else:
        raise ValueError(f'unknown source {source!r}')
    if len(src_blocks) != len(tgt_blocks):
        raise ValueError(f'{source} EfficientNet has {len(src_blocks)} '
                         f'blocks, the mmpretrain arch {len(tgt_blocks)}: '
                         'not the same arch (b0..b7)?')
    rename: Dict[str, str] = {}
    for sb, tb in zip(src_blocks, tgt_blocks):
        table = tables[0] if f'{sb}{expand_marker}' in state else tables[1]
        for s, t in table:
            rename[sb + s] = tb + t
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    left = []
    for k, v in state.items():
        new = None
        for s in sorted(rename, key=len, reverse=True):
            if k.startswith(s):
                new = rename[s] + k[len(s):]
                break
        if new is None:
            for s, t in simple.items():
                if k.startswith(s):
                    new = t + k[len(s):]
                    break
        if new is None:
            left.append(k)
            continue
        out[new if new.startswith('head.') else 'backbone.' + new] = v
    if left:
        raise ValueError(f'{len(left)} {source} tensors have no mmpretrain '
                         f'counterpart, e.g. {left[:3]}')
    missing = [k for k in target_keys if 'backbone.' + k not in out]
    if missing:
        raise ValueError(f'{len(missing)} mmpretrain keys not filled, e.g. '
                         f'{missing[:3]}')
    return out, source


def check_shapes(converted: Dict[str, torch.Tensor],
                 target: Dict[str, torch.Tensor]) -> None:
    """Raise naming the first converted backbone tensor whose shape differs
    from the mmpretrain backbone's ``target`` state dict."""
    for k, v in target.items():
        got = converted['backbone.' + k]
        if tuple(got.shape) != tuple(v.shape):
            raise ValueError(f'backbone.{k}: converted shape '
                             f'{tuple(got.shape)} vs mmpretrain '
                             f'{tuple(v.shape)}: not the same arch?')
