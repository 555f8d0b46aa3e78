# Copyright (c) mmfocus contributors.
"""Build the offline demo dataset (real face crops + self-blended fakes).

Example:
    python tools/misc/build_demo_data.py --src demo/faces \
        --out data/demo_faces --size 224 --seed 0

Every real face gets two stored fakes: a whole-face self-blend
(``method='sbi'``) and a self-blend of one facial region
(``method='sbi-<region>'``); val/test crops are jittered in scale and
position. Writes ``real/``, ``fake/``, ``mask/`` PNGs and ``train.json`` /
``val.json`` / ``test.json`` (mmengine BaseDataset format) under ``--out``.
The data are real photos with self-blended pseudo-fakes, NOT
FaceForensics++. See mmfocus.faces.demo.build_demo_dataset.
"""
import argparse
import sys

from mmfocus.faces.demo import build_demo_dataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the demo face dataset (real photos + '
        'self-blended pseudo-fakes with their masks).')
    parser.add_argument('--src', default='demo/faces',
                        help='folder with photos/ and chips/<identity>/')
    parser.add_argument('--out', default='data/demo_faces',
                        help='output folder')
    parser.add_argument('--size', type=int, default=224,
                        help='side of the square face crops')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the split and of the fakes')
    parser.add_argument('--margin', type=float, default=1.3,
                        help='crop side relative to the landmark extent')
    parser.add_argument('--no-astronaut', action='store_true',
                        help='do not add skimage.data.astronaut()')
    parser.add_argument('--no-jitter', action='store_true',
                        help='do not jitter the val/test crops in scale and '
                        'position')
    parser.add_argument('--force', action='store_true',
                        help='rebuild when the output folder exists')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        build_demo_dataset(args.src, args.out, size=args.size,
                           seed=args.seed, force=args.force,
                           margin=args.margin,
                           astronaut=not args.no_astronaut,
                           jitter=not args.no_jitter)
    except FileExistsError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
