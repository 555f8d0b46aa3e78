# Copyright (c) mmfocus contributors.
"""Convert WildDeepfake (its published folders of face sequences) to face
crops + annotations.

Example:
    # the test sequences, faces re-detected like every other dataset
    python tools/dataset_converters/wdf.py /data/WildDeepfake data/wdf \
        --frames 10 --workers 8
    # take every frame as the face (they are face crops already)
    python tools/dataset_converters/wdf.py /data/WildDeepfake data/wdf \
        --faces given

The root holds ``real_train``, ``fake_train``, ``real_test`` and
``fake_test`` (the published archives extracted); every folder of frame
images below them is one sequence ("video"). Writes
``<out>/frames/<split folder>/.../<sequence>/<frame>.png``, ``test.json``
(plus ``train.json`` with ``--include-train``) and ``report.json``. A rerun
skips finished sequences.
"""
import argparse
import sys

from mmfocus.datasets.converters.cli import (
    add_common_args, add_train_args, common_kwargs, print_summary)
from mmfocus.datasets.converters.wdf import convert_wdf
from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Convert WildDeepfake face sequences to aligned face '
        'crops and annotation files (its test set).')
    p.add_argument('root', help='WildDeepfake root (real_train/, '
                   'fake_train/, real_test/, fake_test/)')
    p.add_argument('out', help='output folder, e.g. data/wdf')
    p.add_argument('--faces', choices=['detect', 'given'], default='detect',
                   help='detect: run the face detector on the frames; '
                   'given: every frame is the face (square crop of the '
                   'whole frame, no landmarks)')
    add_train_args(p, 'the train folders (train.json)')
    add_common_args(p)
    # the margin's default depends on --faces (1.3 detect, 1.0 given)
    p.set_defaults(margin=None)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    if args.faces == 'given' and (args.detector != 'dlib'
                                  or args.detector_weights):
        raise ValueError('--faces given uses no face detector; drop '
                         '--detector / --detector-weights')
    kwargs = common_kwargs(args)
    if args.faces == 'given':
        kwargs['detector'] = None
    summary = convert_wdf(
        args.root, args.out, include_train=args.include_train,
        faces=args.faces, real_oversample=args.real_oversample, **kwargs)
    if summary['missing']:
        print(f"warning: {len(summary['missing'])} archive(s) not extracted "
              f"(listed in report.json): "
              f"{', '.join(summary['missing'][:5])}")
    print_summary('WildDeepfake', summary)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main)())
