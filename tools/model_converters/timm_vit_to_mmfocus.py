# Copyright (c) mmfocus contributors.
"""Convert a local timm / DeiT ViT checkpoint for FoCusViT.

mmfocus never downloads weights. Download a checkpoint yourself (e.g. DeiT-S
``deit_small_patch16_224-cd65a155.pth`` from the DeiT release, or timm's
``model.safetensors`` for ``deit_small_patch16_224``), then:

    python tools/model_converters/timm_vit_to_mmfocus.py \
        deit_small_patch16_224-cd65a155.pth checkpoints/deit-s_mmfocus.pth

and set ``model.backbone.pretrained='checkpoints/deit-s_mmfocus.pth'``.
The same file initialises both FoCus branches.
"""
import argparse
import os.path as osp

import torch

from mmfocus.models.converters import convert_timm_vit
from mmfocus.utils.cli import cli_main
from mmfocus.utils.checkpoint import load_checkpoint_file
from mmfocus.utils.io import atomic_open


def load_any(path: str) -> dict:
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        if not osp.isfile(path):
            raise FileNotFoundError(f'checkpoint not found: {path}')
        return load_file(path)
    return load_checkpoint_file(path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', help='timm/DeiT checkpoint (.pth/.bin/.safetensors)')
    p.add_argument('dst', help='output .pth for FoCusViT(pretrained=...)')
    p.add_argument('--pos-embed', choices=['sincos', 'learned'],
                   default='sincos', help='position encoding of the target '
                   'FoCusViT (sincos drops the learned one). Default sincos.')
    p.add_argument('--overwrite', action='store_true')
    args = p.parse_args(argv)
    state = convert_timm_vit(load_any(args.src), pos_embed=args.pos_embed)
    with atomic_open(args.dst, 'wb', overwrite=args.overwrite) as f:
        torch.save(state, f)
    n = sum(v.numel() for v in state.values())
    print(f'wrote {args.dst}: {len(state)} tensors, {n:,} parameters')


if __name__ == '__main__':
    cli_main(main)()
