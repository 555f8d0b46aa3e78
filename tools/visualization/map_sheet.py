# Copyright (c) mmfocus contributors.
"""Per-sample map comparison sheet (Fig. 5 / 7): rows = samples, columns =
face | true mask | one column per map source.

A map source is an annotation written by tools/generate_maps.py
(``--maps NAME=<ann>``) or a trained FoCus run live
(``--model NAME=<config>:<checkpoint>``). Writes the PNG and
``<stem>.json`` (rows, columns, per-tile notes).

Example:
    CFG=configs/focus/vit-demo_demo-sbi.py
    CKPT=checkpoints/focus_vit-demo_demo-sbi.pth
    python tools/visualization/map_sheet.py data/demo_faces/train.json \
        --maps SSIM=data/demo_faces/train_maps-ssim.json \
        --maps pixel=data/demo_faces/train_maps-pixdiff.json \
        --model FoCus=$CFG:$CKPT --num 4 --with-real \
        --out work_dirs/sheets/train.png

See docs/en/user_guides/visualization.md.
"""
import argparse

from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Comparison sheet of manipulation maps, one row per '
        'sample')
    p.add_argument('ann', help='annotation of the faces (and true masks)')
    p.add_argument('--out', required=True, help='output PNG')
    p.add_argument('--data-root', help='root of the annotations\' relative '
                   'paths (default: the folder of ANN)')
    p.add_argument('--maps', action='append', default=[],
                   metavar='NAME=ANN', help='a column of maps listed in an '
                   'annotation (tools/generate_maps.py output); repeatable')
    p.add_argument('--model', action='append', default=[],
                   metavar='NAME=CONFIG:CHECKPOINT',
                   help='a column of maps computed by a FoCus; repeatable')
    p.add_argument('--model-map', choices=['map', 'map_fake'], default='map',
                   help='FoCus map: the fused map (as generate_maps writes) '
                   'or the Eq. 9 fake-evidence map')
    p.add_argument('--images', nargs='+', default=None, metavar='IMG',
                   help='rows: img_paths or file names of the annotation')
    p.add_argument('--num', type=int, default=4,
                   help='otherwise this many random fakes (--seed)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--with-real', action='store_true',
                   help='add each fake\'s real twin (pair_path) below it')
    p.add_argument('--no-mask', action='store_true',
                   help='leave out the true-mask column')
    p.add_argument('--tile', type=int, default=128, help='tile side, px')
    p.add_argument('--alpha', type=float, default=1.0,
                   help='heat-map opacity over the face (1: heat-map alone)')
    p.add_argument('--device', default=None,
                   help='cpu, cuda, ... (default: cuda if present)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace existing outputs')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override keys of every '
                   '--model config')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.apis.figures import map_sheet
    from mmfocus.visualization.sheet import parse_model_spec, parse_spec
    maps, models = {}, {}
    for spec in args.maps:
        name, ann = parse_spec(spec, '--maps')
        if name in maps:
            raise ValueError(f'--maps {name} given twice')
        maps[name] = ann
    for spec in args.model:
        name, value = parse_spec(spec, '--model')
        if name in models:
            raise ValueError(f'--model {name} given twice')
        models[name] = parse_model_spec(value)
    if not maps and not models and args.no_mask:
        raise ValueError('nothing to show: give --maps or --model')
    return map_sheet(args.ann, args.out, data_root=args.data_root,
                     maps=maps, models=models, images=args.images,
                     num=args.num, seed=args.seed,
                     with_real=args.with_real, show_mask=not args.no_mask,
                     tile=args.tile, alpha=args.alpha,
                     model_field='pred_' + args.model_map,
                     device=args.device, cfg_options=args.cfg_options,
                     overwrite=args.overwrite)


if __name__ == '__main__':
    cli_main(main)()
