# Copyright (c) mmfocus contributors.
"""Pack the face crops and masks of annotations into memory-mapped shards.

Example:
    python tools/dataset_converters/pack_shards.py data/ffpp/c23/train.json \
        data/ffpp/c23/val.json --out-dir data/ffpp/c23/packed
    # then train from the shards (same samples, no PNG decoding):
    #   --cfg-options train_dataloader.dataset.data_root=data/ffpp/c23/packed
    python tools/dataset_converters/pack_shards.py \
        data/ffpp/c23/packed/train.json --verify   # sizes, shapes, sha256

Writes, per annotation ``<stem>.json``, ``<out-dir>/<stem>.json`` (the packed
annotation; its paths are relative to ``<out-dir>``, its data root),
``<out-dir>/<stem>.shards.json`` (the manifest) and
``<out-dir>/<stem>.{faces,masks}.NNNNN.npy``. An earlier pack is replaced
only with ``--overwrite``. See docs/en/user_guides/dataset_prepare.md.
"""
import argparse
import sys

from mmfocus.datasets.shards import (DEFAULT_FACES_PER_SHARD, manifest_path,
                                     pack_annotation, verify_shards)
from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Pack the faces (and masks) of frame annotations into '
        'memory-mapped uint8 .npy shards plus packed annotations that '
        'FaceForgeryDataset reads without decoding PNGs.')
    p.add_argument('ann_files', nargs='+', metavar='ANN_JSON',
                   help='annotation file(s) (train.json, ...); with --verify '
                   'packed annotations')
    p.add_argument('--out-dir', default=None,
                   help='output folder (the packed annotations\' data root)')
    p.add_argument('--data-root', default=None,
                   help='folder the annotations\' paths are relative to '
                   '(default: each annotation\'s folder)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace an earlier pack of the same annotation')
    p.add_argument('--faces-per-shard', type=int,
                   default=DEFAULT_FACES_PER_SHARD, metavar='N',
                   help=f'faces per shard at most (default '
                   f'{DEFAULT_FACES_PER_SHARD})')
    p.add_argument('--verify', action='store_true',
                   help='only check packed annotations: every shard\'s '
                   'size, shape and sha256 against the manifest')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bar')
    args = p.parse_args(argv)
    if args.faces_per_shard < 1:
        p.error(f'--faces-per-shard must be >= 1, got '
                f'{args.faces_per_shard}')
    if not args.verify and not args.out_dir:
        p.error('--out-dir is required (unless --verify)')
    return args


def main(argv=None):
    args = parse_args(argv)
    for ann in args.ann_files:
        if args.verify:
            man = manifest_path(ann)
            if man is None:
                raise ValueError(f'{ann}: not a packed annotation (no '
                                 'metainfo.shards)')
            res = verify_shards(man, checksum=True)
            print(f'{ann}: {len(res["shards"])} shards of {man} verified '
                  f'({res["faces"]} faces, {res["masks"]} masks)')
            continue
        s = pack_annotation(ann, args.out_dir, data_root=args.data_root,
                            faces_per_shard=args.faces_per_shard,
                            overwrite=args.overwrite,
                            progress=not args.no_progress)
        print(f'{ann} -> {s["ann_file"]}: {s["entries"]} entries, '
              f'{s["faces"]} faces + {s["masks"]} masks in {s["shards"]} '
              f'shards ({s["bytes"] / 2**20:.1f} MiB, {s["seconds"]:.1f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main)())
