# Copyright (c) mmfocus contributors.
"""Strip a training checkpoint for release: keep the weights (and meta),
drop optimizer / scheduler / message-hub state, optionally store fp16, and
append the first 8 hex digits of the file's sha256 to its name.

Example:
    python tools/model_converters/publish_model.py \
        work_dirs/vit-demo_demo-sbi/iter_8000.pth \
        checkpoints/focus_vit-demo_demo-sbi.pth --fp16 --no-hash
"""
import argparse
import hashlib
import io
import os.path as osp

import torch

from mmfocus.utils.checkpoint import load_checkpoint_file
from mmfocus.utils.cli import cli_main
from mmfocus.utils.io import atomic_write


def main(argv=None):
    p = argparse.ArgumentParser(description='Publish a checkpoint')
    p.add_argument('src', help='training checkpoint')
    p.add_argument('dst', help='output file')
    p.add_argument('--fp16', action='store_true',
                   help='store floating-point weights as float16')
    p.add_argument('--no-hash', action='store_true',
                   help='do not append the sha256 prefix to the name')
    p.add_argument('--overwrite', action='store_true')
    args = p.parse_args(argv)
    ckpt = load_checkpoint_file(args.src)
    if 'state_dict' not in ckpt:
        raise KeyError(f'{args.src} has no "state_dict"')
    state = ckpt['state_dict']
    if args.fp16:
        state = {k: v.half() if v.is_floating_point() else v
                 for k, v in state.items()}
    meta = {k: v for k, v in (ckpt.get('meta') or {}).items()
            if k in ('epoch', 'iter', 'seed', 'experiment_name', 'cfg',
                     'mmengine_version', 'time')}
    buf = io.BytesIO()
    torch.save(dict(state_dict=state, meta=meta), buf)
    data = buf.getvalue()
    dst = args.dst
    if not args.no_hash:
        stem, ext = osp.splitext(dst)
        dst = f'{stem}-{hashlib.sha256(data).hexdigest()[:8]}{ext}'
    atomic_write(dst, data, overwrite=args.overwrite)
    print(f'wrote {dst} ({len(data) / 2**20:.1f} MiB, '
          f'{len(state)} tensors)')


if __name__ == '__main__':
    cli_main(main)()
