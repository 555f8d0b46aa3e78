# Copyright (c) mmfocus contributors.
"""Train a model from a config (mmpretrain's argument set).

Examples:
    python tools/train.py configs/focus/vit-demo_demo-sbi_quick.py
    tools/dist_train.sh configs/focus/vit-s_ffpp-lq.py 8
"""
import argparse
import glob
import os.path as osp

from mmfocus.apis.runner import build_runner, load_config
from mmfocus.utils.cli import (add_launcher_args, cli_main,
                               export_local_rank)
from mmfocus.utils.config import apply_amp, drop_validation


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Train an mmfocus model')
    p.add_argument('config', help='train config file path')
    p.add_argument('--work-dir', help='the dir to save logs and models')
    p.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or, with no value, from the '
        'latest checkpoint in the work dir')
    p.add_argument(
        '--amp', nargs='?', const='auto', choices=['auto', 'bf16', 'fp16'],
        help='automatic mixed precision: bf16 (autocast, no loss scaling: '
        'AutocastOptimWrapper) or fp16 (mmengine AmpOptimWrapper with '
        'dynamic loss scaling); bare --amp picks bf16 where the GPU '
        'supports it, else fp16')
    p.add_argument('--compile', action='store_true',
                   help='torch.compile the train step (mmengine compile=True)')
    p.add_argument('--no-validate', action='store_true',
                   help='do not validate during training')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale lr by total batch / auto_scale_lr.base')
    p.add_argument('--force', action='store_true',
                   help='train into a work dir that already has checkpoints '
                   '(they may be overwritten)')
    p.add_argument('--no-pin-memory', action='store_true')
    p.add_argument('--no-persistent-workers', action='store_true')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys (the key '
                   'must exist; see --allow-new-keys)')
    p.add_argument('--allow-new-keys', action='store_true',
                   help='let --cfg-options add keys the config lacks')
    add_launcher_args(p)
    args = p.parse_args(argv)
    export_local_rank(args)
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.allow_new_keys,
                      work_dir=args.work_dir, launcher=args.launcher)
    if args.no_validate:
        drop_validation(cfg)
    if args.amp:
        apply_amp(cfg, args.amp)
    if args.compile:
        cfg.compile = True
    if args.auto_scale_lr:
        if not cfg.get('auto_scale_lr', {}).get('base_batch_size'):
            raise KeyError('--auto-scale-lr needs auto_scale_lr.'
                           'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            if args.no_pin_memory:
                cfg[loader]['pin_memory'] = False
            if args.no_persistent_workers:
                cfg[loader]['persistent_workers'] = False
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint not found: '
                                    f'{args.resume}')
        cfg.resume, cfg.load_from = True, args.resume
    elif not args.force:
        old = sorted(glob.glob(osp.join(cfg.work_dir, 'iter_*.pth')) +
                     glob.glob(osp.join(cfg.work_dir, 'epoch_*.pth')))
        if old:
            raise FileExistsError(
                f'work dir {cfg.work_dir} already holds checkpoints '
                f'({osp.basename(old[-1])}, ...): pass --resume to continue, '
                '--work-dir to train elsewhere, or --force to overwrite')
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    cli_main(main)()
