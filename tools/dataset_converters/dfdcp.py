# Copyright (c) mmfocus contributors.
"""Convert the DFDC preview set (its published layout) to face crops +
annotations.

Example:
    python tools/dataset_converters/dfdcp.py /data/dfdc_preview_set \
        data/dfdcp --frames 10 --workers 8

Reads ``<root>/dataset.json``; writes ``<out>/frames/<video path>/<frame>.png``
(``original_videos/...``, ``method_A/...``, ``method_B/...``),
``test.json`` (the ``"set": "test"`` videos; plus ``train.json`` with
``--include-train``) and ``report.json``. A rerun skips finished videos.
"""
import argparse
import sys

from mmfocus.datasets.converters.cli import (
    add_common_args, add_train_args, common_kwargs, print_summary)
from mmfocus.datasets.converters.dfdcp import convert_dfdcp
from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Convert DFDC preview videos to aligned face crops and '
        'annotation files (its test set).')
    p.add_argument('root', help='dfdc_preview_set folder (dataset.json, '
                   'original_videos/, method_A/, method_B/)')
    p.add_argument('out', help='output folder, e.g. data/dfdcp')
    add_train_args(p, 'the "train" videos (train.json)')
    add_common_args(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    summary = convert_dfdcp(
        args.root, args.out, include_train=args.include_train,
        real_oversample=args.real_oversample, **common_kwargs(args))
    print_summary('DFDC preview', summary)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main)())
