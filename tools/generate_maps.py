# Copyright (c) mmfocus contributors.
"""Write map targets (FoCus, SSIM, pixel difference) for an annotation file.

One 8-bit PNG per fake frame under ``<out-dir>/<source>/<img_path>.png``
(reals get none: an all-zero target) and a new annotation whose fakes'
``mask_path`` points to their maps, e.g. ``<data-root>/train_maps-ssim.json``
for the multitask configs. Rerun the same command after a kill to resume.

Example:
    python tools/generate_maps.py --source ssim \
        --ann train.json --data-root data/demo_faces \
        --out-dir data/demo_faces/maps
    python tools/generate_maps.py --source focus \
        --config configs/focus/vit-demo_demo-sbi.py \
        --checkpoint checkpoints/focus_vit-demo_demo-sbi.pth \
        --ann train.json --data-root data/demo_faces \
        --out-dir data/demo_faces/maps
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfocus.maps.generate import SOURCES, generate_maps  # noqa: E402
from mmfocus.utils.cli import cli_main  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Write map targets and the annotation pointing to them')
    p.add_argument('--source', required=True, choices=SOURCES,
                   help='map source')
    p.add_argument('--ann', required=True,
                   help='input annotation (a path, or relative to '
                   '--data-root)')
    p.add_argument('--data-root', required=True,
                   help='root of the annotation\'s relative paths')
    p.add_argument('--out-dir', required=True,
                   help='maps go to <out-dir>/<source>/<img_path>.png')
    p.add_argument('--out-ann', help='output annotation (default '
                   '<data-root>/<ann stem>_maps-<source>.json)')
    p.add_argument('--config', help='FoCus config (--source focus)')
    p.add_argument('--checkpoint', help='FoCus checkpoint (--source focus)')
    p.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    p.add_argument('--batch-size', type=int, default=16,
                   help='frames per forward pass (focus)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace an existing output annotation (existing '
                   'map PNGs are always kept: delete them to recompute)')
    p.add_argument('--drop-unmapped', action='store_true',
                   help='leave fakes without a map (no pair) out of the '
                   'output annotation instead of giving them a zero target')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bar')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = None
    if args.source == 'focus':
        if not args.config or not args.checkpoint:
            raise ValueError('--source focus needs --config and --checkpoint')
        from mmfocus.apis.inference import init_model
        model = init_model(args.config, args.checkpoint, device=args.device,
                           cfg_options=args.cfg_options)
    elif args.config or args.checkpoint:
        raise ValueError(f'--config/--checkpoint are for --source focus, '
                         f'not {args.source}')
    return generate_maps(args.ann, args.data_root, args.source, args.out_dir,
                         out_ann=args.out_ann, model=model,
                         batch_size=args.batch_size,
                         overwrite=args.overwrite,
                         drop_unmapped=args.drop_unmapped,
                         progress=not args.no_progress)


if __name__ == '__main__':
    cli_main(main)()
