# Copyright (c) mmfocus contributors.
"""The complexity table (the paper's Table VIII): parameters, FLOPs
(attention counted) and inference throughput of several models, measured
on one device in one run with the same batch and precision; Markdown +
JSON with the device and versions.

The command line of :func:`mmfocus.experiments.complexity.run_complexity`.

Examples:
    # FoCus, MaDD, GFFD, UIA-ViT, Xception, Face X-ray, EfficientNet-B4+FPN
    python tools/analysis/complexity.py configs/experiments/complexity_table8.py \
        --device cuda --batch-size 64 --amp bf16
    # the tiny CPU variants (seconds)
    python tools/analysis/complexity.py configs/experiments/complexity_demo.py
"""
import argparse
import shlex
import sys

from mmfocus.utils.cli import cli_main

AMP_DTYPES = {'none': None, 'bf16': 'bfloat16', 'fp16': 'float16'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Parameters, FLOPs and throughput of the models of a '
        'complexity spec, measured side by side (Table VIII)')
    p.add_argument('spec', help='complexity spec (configs/experiments/'
                   'complexity_*.py)')
    p.add_argument('--out-dir', default=None,
                   help="where complexity.{json,md} go. Defaults to the "
                   "spec's work_dir")
    p.add_argument('--device', default='cpu',
                   help="'cpu', 'cuda', 'cuda:1'. Defaults to cpu")
    p.add_argument('--batch-size', type=int, default=None,
                   help="images per inference step. Defaults to the spec's "
                   'batch_size (else 8)')
    p.add_argument('--amp', choices=sorted(AMP_DTYPES), default='none',
                   help='autocast dtype of the timed steps. Defaults to none')
    p.add_argument('--warmup', type=int, default=1,
                   help='untimed rounds. Defaults to 1')
    p.add_argument('--repeats', type=int, default=5,
                   help='timed rounds (all models in turn). Defaults to 5')
    p.add_argument('--only', nargs='+', default=None, metavar='NAME',
                   help='measure only these models of the spec')
    p.add_argument('--no-throughput', action='store_true',
                   help='count parameters and FLOPs only')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bars')
    p.add_argument('--force', action='store_true',
                   help='replace existing complexity.{json,md}')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from mmfocus.experiments.complexity import run_complexity
    amp = AMP_DTYPES[args.amp]
    command = 'python tools/analysis/complexity.py ' + ' '.join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    res = run_complexity(
        args.spec, out_dir=args.out_dir, device=args.device,
        batch_size=args.batch_size,
        amp_dtype=None if amp is None else getattr(torch, amp),
        warmup=args.warmup, repeats=args.repeats, only=args.only,
        throughput=not args.no_throughput, overwrite=args.force,
        command=command, progress=not args.no_progress)
    with open(res['outputs']['md'], encoding='utf-8') as f:
        print(f.read())
    print(f"Wrote {res['outputs']['md']} and {res['outputs']['json']}")
    return res


if __name__ == '__main__':
    cli_main(main)()
