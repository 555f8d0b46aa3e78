# Copyright (c) mmfocus contributors.
"""Test (evaluate) a checkpoint; dump predictions and manipulation maps.

Example:
    python tools/test.py configs/focus/vit-demo_demo-sbi.py \
        checkpoints/focus_vit-demo_demo-sbi.pth --out work_dirs/preds.json
"""
import argparse
import os.path as osp

from mmfocus.apis.runner import build_runner, load_config
from mmfocus.utils.cli import (add_launcher_args, cli_main,
                               export_local_rank)
from mmfocus.utils.config import drop_hooks


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Test an mmfocus model')
    p.add_argument('config', help='test config file path')
    p.add_argument('checkpoint', help='checkpoint file (local path)')
    p.add_argument('--work-dir', help='the dir to save logs, metrics, maps')
    p.add_argument('--out', help='write per-sample predictions (JSON: '
                   'img_path, label, fake score, video id) to this file')
    p.add_argument('--overwrite', action='store_true',
                   help='replace an existing --out file')
    p.add_argument('--show-dir', help='write manipulation-map overlays here '
                   '(relative to the work dir); default <work_dir>/maps')
    p.add_argument('--no-maps', action='store_true',
                   help='do not dump manipulation maps')
    p.add_argument('--no-vis', action='store_true',
                   help='do not draw the ROC / histogram / gallery figures '
                   '(ForgeryVisualizationHook, <work_dir>/vis/test)')
    p.add_argument('--amp', action='store_true', help='mixed precision test')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys')
    p.add_argument('--allow-new-keys', action='store_true')
    add_launcher_args(p)
    args = p.parse_args(argv)
    export_local_rank(args)
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.utils.checkpoint import load_checkpoint_file
    load_checkpoint_file(args.checkpoint)  # clear error before any work
    cfg = load_config(args.config, args.cfg_options, args.allow_new_keys,
                      work_dir=args.work_dir, launcher=args.launcher)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    hooks = drop_hooks(cfg, ('FlopsProfileHook', 'RNGStateHook'))
    map_hooks = [h for h in hooks if h.get('type') == 'ManipulationMapHook']
    if args.no_maps:
        hooks = [h for h in hooks if h.get('type') != 'ManipulationMapHook']
    elif args.show_dir:
        if map_hooks:
            map_hooks[0]['out_dir'] = args.show_dir
        else:
            hooks.append(dict(type='ManipulationMapHook',
                              out_dir=args.show_dir))
    if args.no_vis:
        hooks = [h for h in hooks
                 if h.get('type') != 'ForgeryVisualizationHook']
    elif not any(h.get('type') == 'ForgeryVisualizationHook' for h in hooks):
        hooks.append(dict(type='ForgeryVisualizationHook'))
    cfg.custom_hooks = hooks
    if args.out:
        if osp.exists(args.out) and not args.overwrite:
            raise FileExistsError(f'--out file exists: {args.out} (pass '
                                  '--overwrite to replace it)')
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, dict) and 'metrics' not in evaluator:
            evaluator = [evaluator]
        evaluator = list(evaluator) + [
            dict(type='DumpPredictions', out_file=args.out)]
        cfg.test_evaluator = evaluator
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    runner = build_runner(cfg, strict_checkpoint=args.checkpoint)
    metrics = runner.test()
    raise_write_failures(runner)
    return metrics


def raise_write_failures(runner) -> None:
    """After the metrics were printed: if the map / figure hooks could not
    write some files (a full disk), end with one ``OSError`` naming the
    first file (``error: <path>: <cause> (N map writes failed...)``)."""
    failed = [h.write_failures for h in runner.hooks
              if getattr(h, 'write_failures', None) is not None
              and h.write_failures.count]
    if not failed:
        return
    path, e = failed[0].first
    counts = ', '.join(f'{f.count} {f.what} failed' for f in failed)
    raise OSError(e.errno, f'{e.strerror or e} ({counts}; the metrics above '
                  'are complete)', path)


if __name__ == '__main__':
    cli_main(main)()
