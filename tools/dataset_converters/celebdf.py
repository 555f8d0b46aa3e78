# Copyright (c) mmfocus contributors.
"""Convert Celeb-DF v2 (its published layout) to face crops + annotations.

Example:
    python tools/dataset_converters/celebdf.py /data/Celeb-DF-v2 \
        data/celebdf-v2 --frames 10 --workers 8

Writes ``<out>/frames/<folder>/<video>/<frame>.png`` (``Celeb-real``,
``YouTube-real``, ``Celeb-synthesis``), ``test.json`` (the official
``List_of_testing_videos.txt``; plus ``train.json`` with
``--include-train``) and ``report.json``; paths are relative to ``<out>``,
as ``configs/_base_/datasets/celebdf-v2.py`` expects with
``data/celebdf-v2``. A rerun skips finished videos.
"""
import argparse
import sys

from mmfocus.datasets.converters.celebdf import convert_celebdf
from mmfocus.datasets.converters.cli import (
    add_common_args, add_train_args, common_kwargs, print_summary)
from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Convert Celeb-DF v2 videos to aligned face crops and '
        'annotation files (official test list).')
    p.add_argument('root', help='Celeb-DF v2 root (Celeb-real/, '
                   'Celeb-synthesis/, YouTube-real/, '
                   'List_of_testing_videos.txt)')
    p.add_argument('out', help='output folder, e.g. data/celebdf-v2')
    add_train_args(p, 'the videos outside the test list (train.json)')
    p.add_argument('--test-list', default=None,
                   help='test list (default: <root>/'
                   'List_of_testing_videos.txt)')
    add_common_args(p)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    summary = convert_celebdf(
        args.root, args.out, include_train=args.include_train,
        real_oversample=args.real_oversample, test_list=args.test_list,
        **common_kwargs(args))
    print_summary('Celeb-DF v2', summary)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main)())
