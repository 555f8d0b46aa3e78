# Copyright (c) mmfocus contributors.
"""Convert a local torchvision ResNet checkpoint for mmpretrain's ResNet.

mmfocus never downloads weights. Get torchvision's file yourself (e.g.
``resnet34-b627a593.pth``), then:

    python tools/model_converters/tv_resnet_to_mmpretrain.py \\
        resnet34-b627a593.pth checkpoints/resnet34_tv.pth --depth 34

and load it in a PCL / CADDM config with ``backbone=dict(...,
init_cfg=dict(type='Pretrained', prefix='backbone',
checkpoint='checkpoints/resnet34_tv.pth'))``.
"""
import argparse

import torch

from mmfocus.utils.checkpoint import load_state_dict_file
from mmfocus.utils.cli import cli_main
from mmfocus.utils.io import atomic_open


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', help='torchvision ResNet checkpoint (.pth)')
    p.add_argument('dst', help='output .pth (mmpretrain backbone.* keys)')
    p.add_argument('--depth', type=int, default=34,
                   help='ResNet depth of the source (18, 34, 50, 101, 152)')
    p.add_argument('--overwrite', action='store_true')
    args = p.parse_args(argv)

    import mmfocus  # noqa: F401  (stack fixes)
    from mmpretrain.models.backbones import ResNet

    from mmfocus.models.converters import (check_shapes,
                                           convert_torchvision_resnet)
    try:
        target = ResNet(depth=args.depth).state_dict()
    except KeyError as e:
        raise ValueError(f'invalid ResNet depth {args.depth}') from e
    out = convert_torchvision_resnet(load_state_dict_file(args.src), target)
    check_shapes(out, target)
    with atomic_open(args.dst, 'wb', overwrite=args.overwrite) as f:
        torch.save(dict(state_dict=out, meta=dict(depth=args.depth)), f)
    n = sum(v.numel() for k, v in out.items()
            if not k.endswith(('num_batches_tracked', 'running_mean',
                               'running_var')))
    print(f'wrote {args.dst}: ResNet-{args.depth}, {len(out)} tensors, '
          f'{n:,} parameters')


if __name__ == '__main__':
    cli_main(main)()
