# Copyright (c) mmfocus contributors.
"""t-SNE of a trained detector's features over a test set (Fig. 9).

Points are coloured by label and marked by manipulation method (the
annotation's ``method``). Writes the PNG and, beside it, ``<stem>.npz``
(embedding, features, labels, methods, img_paths) and ``<stem>.json``.

Example:
    python tools/visualization/tsne.py \
        configs/multitask/efb4-fpn_demo-sbi.py work_dirs/efb4/iter_300.pth \
        --dataset data/demo_faces/test.json --out work_dirs/tsne/efb4.png

See docs/en/user_guides/visualization.md.
"""
import argparse

from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='t-SNE plot of a detector\'s pre-logit features')
    p.add_argument('config', help='model config (multi-task detector or '
                   'FoCus)')
    p.add_argument('checkpoint', help='checkpoint file')
    p.add_argument('--out', required=True,
                   help='output PNG; <stem>.npz and <stem>.json go beside it')
    p.add_argument('--dataset', metavar='ANN',
                   help='annotation file (default: the config\'s test set); '
                   'its folder is the data root unless --data-root')
    p.add_argument('--data-root', help='root of the annotation\'s paths')
    p.add_argument('--max-samples', type=int, default=None,
                   help='random subset of this size (--seed)')
    p.add_argument('--perplexity', type=float, default=30.,
                   help='t-SNE perplexity (lowered to (N-1)/3 for small N)')
    p.add_argument('--pca-dims', type=int, default=50,
                   help='PCA to this many dims before t-SNE (0: none)')
    p.add_argument('--seed', type=int, default=0,
                   help='subset, PCA and t-SNE seed')
    p.add_argument('--device', default=None,
                   help='cpu, cuda, cuda:1 ... (default: cuda if present)')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--num-workers', type=int, default=0,
                   help='DataLoader workers')
    p.add_argument('--fig-size', type=float, nargs=2, default=(6., 6.),
                   metavar=('W', 'H'), help='figure size in inches')
    p.add_argument('--dpi', type=int, default=150,
                   help='PNG pixels = fig size x dpi')
    p.add_argument('--title', default=None,
                   help='plot title (default: the config name)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace existing outputs')
    p.add_argument('--no-progress', action='store_true')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.apis.figures import tsne_plot
    return tsne_plot(args.config, args.checkpoint, args.out,
                     ann_file=args.dataset, data_root=args.data_root,
                     max_samples=args.max_samples,
                     perplexity=args.perplexity, seed=args.seed,
                     pca_dims=args.pca_dims, device=args.device,
                     cfg_options=args.cfg_options,
                     batch_size=args.batch_size,
                     num_workers=args.num_workers, fig_size=args.fig_size,
                     dpi=args.dpi, title=args.title,
                     overwrite=args.overwrite,
                     progress=not args.no_progress)


if __name__ == '__main__':
    cli_main(main)()
