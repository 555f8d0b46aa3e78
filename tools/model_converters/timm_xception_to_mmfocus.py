# Copyright (c) mmfocus contributors.
"""Convert a local timm legacy_xception checkpoint for mmfocus' Xception.

mmfocus never downloads weights. Get timm's ImageNet file yourself (the
``legacy_xception.tf_in1k`` weights, ``xception-43020ad28.pth``, or the
``model.safetensors`` of that timm model; Cadene's ``pretrainedmodels``
file works too), then:

    python tools/model_converters/timm_xception_to_mmfocus.py \\
        xception-43020ad28.pth checkpoints/xception_timm.pth

and load it in an Xception / GFFD config with ``backbone=dict(...,
init_cfg=dict(type='Pretrained', prefix='backbone',
checkpoint='checkpoints/xception_timm.pth'))`` (GFFD initialises both of
its streams from it).
"""
import argparse
import os.path as osp

import torch

from mmfocus.utils.checkpoint import load_state_dict_file
from mmfocus.utils.cli import cli_main
from mmfocus.utils.io import atomic_open


def load_any(path: str) -> dict:
    """A state dict from a ``.pth`` / ``.bin`` / ``.safetensors`` file."""
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint not found: {path}')
        return load_file(path)
    return load_state_dict_file(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', help='timm legacy_xception checkpoint '
                   '(.pth/.bin/.safetensors)')
    p.add_argument('dst', help='output .pth (backbone.* keys)')
    p.add_argument('--arch', default='legacy',
                   help="mmfocus Xception arch of the source (default "
                   "'legacy', the only one timm has)")
    p.add_argument('--overwrite', action='store_true')
    args = p.parse_args(argv)

    import mmfocus  # noqa: F401  (stack fixes)
    from mmfocus.models.backbones import Xception
    from mmfocus.models.converters import convert_timm_xception

    try:
        target = Xception(arch=args.arch).state_dict()
    except KeyError as e:
        raise ValueError(f'invalid Xception arch {args.arch!r}') from e
    out = convert_timm_xception(load_any(args.src), target)
    with atomic_open(args.dst, 'wb', overwrite=args.overwrite) as f:
        torch.save(dict(state_dict=out, meta=dict(arch=args.arch,
                                                  source=osp.basename(
                                                      args.src))), f)
    n = sum(v.numel() for k, v in out.items()
            if not k.endswith(('num_batches_tracked', 'running_mean',
                               'running_var')))
    print(f'wrote {args.dst}: Xception-{args.arch}, {len(out)} tensors, '
          f'{n:,} parameters')


if __name__ == '__main__':
    cli_main(main)()
