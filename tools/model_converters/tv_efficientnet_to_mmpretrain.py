# Copyright (c) mmfocus contributors.
"""Convert a local torchvision / timm EfficientNet checkpoint for mmpretrain.

mmfocus never downloads weights. Get a checkpoint yourself, e.g. torchvision's
``efficientnet_b4_rwightman-23ab8bcd.pth`` or timm's ``tf_efficientnet_b4``
(``model.safetensors`` / ``pytorch_model.bin``), then:

    python tools/model_converters/tv_efficientnet_to_mmpretrain.py \\
        efficientnet_b4_rwightman-23ab8bcd.pth checkpoints/efb4_tv.pth
    python tools/model_converters/tv_efficientnet_to_mmpretrain.py \\
        tf_efficientnet_b4.safetensors checkpoints/efb4_tf.pth --tf-padding

The output is an mmpretrain ``ImageClassifier``-style file (``backbone.*`` and
``head.fc.*`` keys). The networks hold identical parameters but differ in
padding and BatchNorm eps, which a state dict does not record: the tool
prints the ``EfficientNet`` kwargs that reproduce the source exactly
(torchvision and timm ``efficientnet_b*``: ``conv_cfg=None``, BN eps 1e-5;
timm ``tf_efficientnet_b*``: mmpretrain's defaults) and stores them under
``meta['backbone_kwargs']``. Use it with, in the model config,
``backbone=dict(..., <those kwargs>, init_cfg=dict(type='Pretrained',
prefix='backbone', checkpoint='checkpoints/efb4_tv.pth'))``.
"""
import argparse
import os.path as osp

import torch

from mmfocus.utils.cli import cli_main
from mmfocus.utils.checkpoint import load_state_dict_file
from mmfocus.utils.io import atomic_open


def load_any(path: str) -> dict:
    """A state dict from ``.safetensors`` or a torch checkpoint."""
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint not found: {path}')
        return load_file(path)
    return load_state_dict_file(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', help='torchvision or timm EfficientNet checkpoint')
    p.add_argument('dst', help='output .pth (mmpretrain key layout)')
    p.add_argument('--arch',
                   default='b4',
                   help='mmpretrain EfficientNet arch of the source, b0..b7. '
                   'Default b4.')
    p.add_argument('--source',
                   choices=['auto', 'torchvision', 'timm'],
                   default='auto',
                   help='key layout; default: detected')
    p.add_argument('--tf-padding',
                   action='store_true',
                   help='the timm source is a tf_efficientnet_* (TF "same" '
                   'padding, BN eps 1e-3)')
    p.add_argument('--overwrite', action='store_true')
    args = p.parse_args(argv)

    import mmfocus  # noqa: F401  (stack fixes)
    from mmpretrain.models.backbones import EfficientNet

    from mmfocus.models.converters import (backbone_kwargs_for,
                                           check_shapes,
                                           convert_efficientnet)
    state = load_any(args.src)
    try:
        target = EfficientNet(arch=args.arch).state_dict()
    except (AssertionError, KeyError) as e:
        raise ValueError(f'unknown EfficientNet arch {args.arch!r}') from e
    out, source = convert_efficientnet(state, list(target), args.source)
    check_shapes(out, target)
    if source == 'torchvision' and args.tf_padding:
        raise ValueError('--tf-padding applies to timm tf_efficientnet_* '
                         'checkpoints only')
    kwargs = backbone_kwargs_for(source, args.tf_padding)
    meta = dict(source=source,
                src_file=osp.basename(args.src),
                arch=args.arch,
                backbone_kwargs=kwargs)
    with atomic_open(args.dst, 'wb', overwrite=args.overwrite) as f:
        torch.save(dict(state_dict=out, meta=meta), f)
    n = sum(v.numel() for k, v in out.items()
            if not k.endswith(('num_batches_tracked', 'running_mean',
                               'running_var')))
    print(f'wrote {args.dst}: {source} EfficientNet-{args.arch.upper()}, '
          f'{len(out)} tensors, {n:,} parameters')
    print(f'set in the backbone config: {kwargs}')


if __name__ == '__main__':
    cli_main(main)()
