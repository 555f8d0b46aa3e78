# Copyright (c) mmfocus contributors.
"""Convert FaceForensics++ (its published layout) to face crops + annotations.

Example:
    python tools/dataset_converters/ffpp.py /data/FaceForensics++ data/ffpp \
        --compression c40 --frames 10 --workers 8
    # Slurm array of 4 tasks; the annotation files are written when the last
    # shard finishes (or run once more with --merge-only):
    python tools/dataset_converters/ffpp.py ROOT data/ffpp --compression c40 \
        --shard ${SLURM_ARRAY_TASK_ID}/4

Writes ``<out>/<compression>/frames/<method>/<video>/<frame>.png`` (face
crops; ``real`` for the originals), ``masks/...`` (binary masks when
``manipulated_sequences/<method>/masks/videos`` exists), ``train.json`` /
``val.json`` / ``test.json`` (mmengine BaseDataset format, paths relative to
``<out>/<compression>``) and ``report.json``. A rerun skips finished
videos. ``--clips K --clip-len T`` writes clips of T consecutive frames of one
face track instead (``frames/<method>/<video>/clip<k>/<frame>.png``, one entry
per clip, for ``FaceClipDataset``):

    python tools/dataset_converters/ffpp.py ROOT data/ffpp_clips -c c23 \
        --clips 4 --clip-len 8

See docs/en/user_guides/dataset_prepare.md.
"""
import argparse
import sys

from mmfocus.datasets.converters.cli import (add_common_args,
                                             common_kwargs, print_summary)
from mmfocus.datasets.converters.ffpp import (FFPP_METHODS,
                                              convert_ffpp)
from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Convert FaceForensics++ videos to aligned face crops '
        'and annotation files (official train/val/test split).')
    p.add_argument('root', help='FF++ root (original_sequences/, '
                   'manipulated_sequences/)')
    p.add_argument('out', help='output root; files go to <out>/<compression>')
    p.add_argument('--compression', '-c', default='c23',
                   choices=['raw', 'c23', 'c40'],
                   help='FF++ quality folder (c40 = LQ, c23 = HQ)')
    p.add_argument('--methods', nargs='+', default=list(FFPP_METHODS),
                   metavar='METHOD',
                   help=f'manipulation folders (default: '
                   f'{" ".join(FFPP_METHODS)}; FaceShifter works too)')
    p.add_argument('--real-oversample', type=int, default=1, metavar='K',
                   help='repeat each real train entry K times (class '
                   'balance; 4 with the four methods)')
    p.add_argument('--mask-thr', type=int, default=16,
                   help='mask pixels brighter than this are manipulated')
    p.add_argument('--splits', default=None, metavar='DIR',
                   help='folder with train/val/test.json split pairs '
                   '(default: the official ones shipped with mmfocus)')
    add_common_args(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    summary = convert_ffpp(
        args.root, args.out, compression=args.compression,
        methods=args.methods, real_oversample=args.real_oversample,
        split_dir=args.splits, mask_thr=args.mask_thr, **common_kwargs(args))
    print_summary(f'FaceForensics++ {args.compression}', summary)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main)())
