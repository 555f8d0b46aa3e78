# Copyright (c) mmfocus contributors.
"""Measure the fixed statistics of a modality view on a config's training
data (the training pipeline, augmentation and online self-blends
included), for ``FoCusDataPreprocessor(filter_cfg=dict(sobel=dict(
normalize='fixed', mean=..., std=...)))``.

Example:
    python tools/analysis/modality_stats.py configs/focus/vit-demo_demo-sbi.py \
        --modality sobel --num-images 512
"""
import argparse
import json


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Per-channel mean/std of a modality filter's output on "
        "a config's training data")
    p.add_argument('config')
    p.add_argument('--modality', default='sobel',
                   choices=['sobel', 'dct', 'srm'])
    p.add_argument('--num-images', type=int, default=512,
                   help='images to measure. Defaults to 512')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the augmentation. Defaults to 0')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.runner import Runner, set_random_seed

    from mmfocus.analysis.modality_stats import filter_statistics
    from mmfocus.apis.runner import load_config
    from mmfocus.registry import MODELS
    from mmfocus.utils import register_all_modules

    if args.num_images < 1:
        raise ValueError('--num-images must be >= 1')
    register_all_modules(init_default_scope=True)
    cfg = load_config(args.config, args.cfg_options)
    set_random_seed(args.seed)
    pre_cfg = cfg.model.get('data_preprocessor') or {}
    pre = MODELS.build(pre_cfg)
    to_rgb = bool(getattr(pre, 'to_rgb', False) or
                  getattr(pre, '_channel_conversion', False))
    sobel_mode = pre_cfg.get('sobel_mode', 'magnitude')
    dl_cfg = dict(cfg.train_dataloader)
    dl_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(dl_cfg, seed=args.seed)

    def batches():
        for data in loader:
            x = torch.stack(list(data['inputs'])).float()
            yield x.flip(1) if to_rgb else x

    kwargs = dict(sobel_mode=sobel_mode) if args.modality == 'sobel' else {}
    stats = filter_statistics(batches(), args.modality, args.num_images,
                              **kwargs)
    print(json.dumps(stats, indent=2))
    print(f"filter_cfg=dict({args.modality}=dict(normalize='fixed', "
          f"mean={tuple(round(v, 3) for v in stats['mean'])}, "
          f"std={tuple(round(v, 3) for v in stats['std'])}))")
    return stats


if __name__ == '__main__':
    from mmfocus.utils.cli import cli_main
    cli_main(main)()
