# Copyright (c) mmfocus contributors.
"""Write map targets for an annotation file: FoCus, SSIM, pixel difference,
GradCAM / ScoreCAM of a ViT detector, -CARP attention.

One 8-bit PNG per fake frame under ``<out-dir>/<source>/<img_path>.png``
(reals get none: an all-zero target) and a new annotation whose fakes'
``mask_path`` points to their maps, e.g. ``<data-root>/train_maps-ssim.json``
for the multitask configs. Rerun the same command after a kill to resume.
Model sources take ``<config> <checkpoint>`` (or ``--config`` and
``--checkpoint``).

Example:
    python tools/generate_maps.py --source ssim \
        --ann train.json --data-root data/demo_faces \
        --out-dir data/demo_faces/maps
    python tools/generate_maps.py configs/focus/vit-demo_demo-sbi.py \
        checkpoints/focus_vit-demo_demo-sbi.pth --source focus \
        --ann train.json --data-root data/demo_faces \
        --out-dir data/demo_faces/maps
    # several GPUs (or CPU processes): the frames are split by rank
    tools/dist_generate_maps.sh 8 configs/vit/vit-s_ffpp-c40.py vit.pth \
        --source gradcam --ann train.json --data-root data/ffpp/c40 \
        --out-dir data/ffpp/c40/maps
"""
import argparse
import os
import os.path as osp

from mmfocus.maps.generate import generate_maps
from mmfocus.maps.sources import map_source_names
from mmfocus.utils.device import default_device
from mmfocus.utils.dist import init_dist
from mmfocus.utils.cli import (add_launcher_args, cli_main,
                               export_local_rank)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Write map targets and the annotation pointing to them')
    p.add_argument('config', nargs='?', default=None,
                   help='model config (model sources: focus, gradcam, '
                   'scorecam, attention)')
    p.add_argument('checkpoint', nargs='?', default=None,
                   help='model checkpoint (model sources)')
    p.add_argument('--source', choices=map_source_names(),
                   help='map source (default: focus when a config is given)')
    p.add_argument('--ann', '--dataset', dest='ann', required=True,
                   help='input annotation (a path, or relative to '
                   '--data-root)')
    p.add_argument('--data-root', default=None,
                   help='root of the annotation\'s relative paths '
                   '(default: the folder of the annotation file)')
    p.add_argument('--out-dir', '--out', dest='out_dir', required=True,
                   help='maps go to <out-dir>/<source>/<img_path>.png')
    p.add_argument('--out-ann', help='output annotation (default '
                   '<data-root>/<ann stem>_maps-<source>.json)')
    p.add_argument('--config', dest='config_opt', metavar='CONFIG',
                   help='same as the positional config')
    p.add_argument('--checkpoint', dest='checkpoint_opt',
                   metavar='CHECKPOINT',
                   help='same as the positional checkpoint')
    p.add_argument('--device', default=None,
                   help='e.g. cpu, cuda:0 (default: this process\'s GPU '
                   'when there is one, else cpu)')
    p.add_argument('--batch-size', type=int, default=16,
                   help='frames per forward pass (model sources)')
    p.add_argument('--amp', choices=['none', 'bf16', 'fp16'],
                   default='none',
                   help='model sources: run the model under torch.autocast '
                   'with this dtype (default none: fp32)')
    p.add_argument('--target-layer', default=None,
                   help='gradcam/scorecam: module whose tokens are '
                   'explained (default: the last block\'s norm1, e.g. '
                   'backbone.blocks.11.norm1)')
    p.add_argument('--score-batch-size', type=int, default=64,
                   help='scorecam: masked images per forward pass')
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
    add_launcher_args(p, ('none', 'pytorch', 'slurm'),
                      help='job launcher (several processes split the '
                      'frames; see tools/dist_generate_maps.sh)')
    args = p.parse_args(argv)
    for name in ('config', 'checkpoint'):
        pos, opt = getattr(args, name), getattr(args, name + '_opt')
        if pos and opt and pos != opt:
            p.error(f'two different {name}s: {pos} and {opt}')
        setattr(args, name, pos or opt)
    if args.data_root is None:
        if not os.path.isfile(args.ann):
            p.error(f'annotation file not found: {args.ann} (give '
                    '--data-root for a path relative to it)')
        args.data_root = osp.dirname(osp.abspath(args.ann))
    if args.source is None:
        if not args.config:
            p.error('--source is required without a config')
        args.source = 'focus'
    return args


def main(argv=None):
    args = parse_args(argv)
    model = None
    model_sources = map_source_names(needs_model=True)
    if args.source in model_sources:
        if not args.config or not args.checkpoint:
            raise ValueError(f'--source {args.source} needs a config and a '
                             'checkpoint (<config> <checkpoint>, or --config '
                             'and --checkpoint)')
    elif args.config or args.checkpoint:
        raise ValueError(f'a config/checkpoint is for the model sources '
                         f'({", ".join(model_sources)}), not {args.source}')
    export_local_rank(args)
    started = init_dist(args.launcher)
    try:
        if args.source in model_sources:
            from mmfocus.apis.inference import init_model
            model = init_model(args.config, args.checkpoint,
                               device=default_device(args.device),
                               cfg_options=args.cfg_options)
        return generate_maps(args.ann, args.data_root, args.source,
                             args.out_dir, out_ann=args.out_ann, model=model,
                             batch_size=args.batch_size,
                             overwrite=args.overwrite,
                             drop_unmapped=args.drop_unmapped,
                             progress=not args.no_progress,
                             target_layer=args.target_layer,
                             score_batch_size=args.score_batch_size,
                             amp=args.amp)
    finally:
        if started:
            import torch.distributed as dist
            dist.destroy_process_group()


if __name__ == '__main__':
    cli_main(main)()
