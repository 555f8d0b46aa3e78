# Copyright (c) mmfocus contributors.
"""Build the demo clips for video models (LTTD) from the demo faces.

Example:
    python tools/misc/build_demo_data.py        # the faces first
    python tools/misc/build_demo_clips.py --clip-len 8 --size 64

Each real demo face becomes a clip under a small smooth motion and its
self-blended pseudo-fake clip with per-frame masks (real photos, NOT
FaceForensics++). See mmfocus.faces.demo_clips.build_demo_clips.
"""
import argparse

from mmfocus.faces.demo_clips import build_demo_clips
from mmfocus.utils.cli import cli_main


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--faces', default='data/demo_faces',
                   help='the demo faces (tools/misc/build_demo_data.py)')
    p.add_argument('--out', default='data/demo_clips', help='output folder')
    p.add_argument('--clip-len', type=int, default=8,
                   help='frames per clip')
    p.add_argument('--size', type=int, default=64, help='frame side')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--force', action='store_true',
                   help='rebuild an existing output folder')
    args = p.parse_args(argv)
    build_demo_clips(args.faces, args.out, clip_len=args.clip_len,
                     size=args.size, seed=args.seed, force=args.force)


if __name__ == '__main__':
    cli_main(main)()
