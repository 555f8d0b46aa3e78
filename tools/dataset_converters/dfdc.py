# Copyright (c) mmfocus contributors.
"""Convert DFDC (the full Deepfake Detection Challenge dataset, its published
layout) to face crops + annotations.

Example:
    # the public test set, single-subject videos only (the paper's protocol)
    python tools/dataset_converters/dfdc.py /data/DFDC data/dfdc \
        --frames 10 --workers 8
    # also the 50 training parts (train.json) with parts 45-49 as val.json
    python tools/dataset_converters/dfdc.py /data/DFDC data/dfdc \
        --include-train --val-parts 45 46 47 48 49

Writes ``<out>/frames/<part>/<video>/<frame>.png`` (``test``,
``dfdc_train_part_N``, ``validation``), ``test.json`` (+ ``train.json``,
``val.json``) and ``report.json`` (test videos left out because a sampled
frame has no face or several: ``not_single_face``). A rerun skips finished
videos. See docs/en/user_guides/dataset_prepare.md.
"""
import argparse
import sys

from mmfocus.datasets.converters.cli import (
    add_common_args, add_train_args, common_kwargs, print_summary)
from mmfocus.datasets.converters.dfdc import convert_dfdc
from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Convert DFDC videos to aligned face crops and '
        'annotation files (public test set, single-face videos).')
    p.add_argument('root', help='DFDC root (test/ with metadata.json or '
                   'labels.csv; dfdc_train_part_N/ with metadata.json)')
    p.add_argument('out', help='output folder, e.g. data/dfdc')
    add_train_args(p, 'the training parts (train.json) and validation/ '
                   '(val.json)')
    p.add_argument('--val-parts', type=int, nargs='+', default=[],
                   metavar='N', help='training parts that form val.json')
    p.add_argument('--all-test-videos', action='store_true',
                   help='keep multi-face test videos in test.json (default: '
                   'single-face videos only)')
    add_common_args(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    summary = convert_dfdc(
        args.root, args.out, include_train=args.include_train,
        val_parts=args.val_parts,
        single_face_test=not args.all_test_videos,
        real_oversample=args.real_oversample, **common_kwargs(args))
    print_summary('DFDC', summary)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main)())
