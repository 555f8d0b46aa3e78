# Copyright (c) mmfocus contributors.
"""AUC under the DeeperForensics-1.0 perturbations (the paper's Table IV).

For each perturbation type and level, the config's test set is evaluated
with ``DeeperForensicsPerturbation``
(:mod:`mmfocus.datasets.transforms.perturbations`) inserted right after
``LoadFace`` in the test pipeline, scored with ``ForgeryMetric``; a clean
(unperturbed) run is the reference. Writes ``robustness.json``,
``robustness.md`` and ``robustness.png`` to the out dir.

The command line of :func:`mmfocus.experiments.robustness.run_robustness`
(the study itself lives there).

Example:
    python tools/analysis/robustness.py configs/focus/vit-demo_demo-sbi.py \
        checkpoints/focus_vit-demo_demo-sbi.pth --out-dir work_dirs/robust
"""
import argparse

from mmfocus.datasets.transforms.perturbations import PERTURBATION_TYPES
# the study's functions, also under their old names in this tool
from mmfocus.experiments.robustness import (  # noqa: F401
    OUT_FILES, TYPE_TITLES, evaluate_auc, perturbed_dataloader_cfg, plot,
    run_robustness, summarise, to_markdown)
from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Evaluate a model under the DeeperForensics-1.0 '
        'perturbations (AUC per type and level, Table IV)')
    p.add_argument('config', help='test config file path')
    p.add_argument('checkpoint', help='checkpoint file (local path)')
    p.add_argument('--types', nargs='+', default=list(PERTURBATION_TYPES),
                   choices=list(PERTURBATION_TYPES),
                   help='perturbation types (default: all 7)')
    p.add_argument('--levels', nargs='+', type=int, default=[1, 2, 3, 4, 5],
                   choices=[1, 2, 3, 4, 5], help='levels (default: 1-5)')
    p.add_argument('--out-dir', help='where the table and plot go; default '
                   'work_dirs/robustness/<config name>')
    p.add_argument('--overwrite', action='store_true',
                   help='replace existing result files in --out-dir')
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the random blocks and noise (per image)')
    p.add_argument('--compression-backend', default='auto',
                   choices=['auto', 'pyav', 'ffmpeg', 'jpeg'],
                   help='H.264 via PyAV or ffmpeg, or the JPEG stand-in; '
                   'auto falls back to JPEG with a warning')
    p.add_argument('--device', default=None,
                   help="'cpu', 'cuda'... (default: cuda if available)")
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys')
    p.add_argument('--allow-new-keys', action='store_true')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bar (rate and ETA on stderr)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_robustness(
        args.config, args.checkpoint, types=args.types, levels=args.levels,
        out_dir=args.out_dir, overwrite=args.overwrite, seed=args.seed,
        compression_backend=args.compression_backend, device=args.device,
        cfg_options=args.cfg_options, allow_new_keys=args.allow_new_keys,
        progress=not args.no_progress)


if __name__ == '__main__':
    cli_main(main)()
