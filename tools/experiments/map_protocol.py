# Copyright (c) mmfocus contributors.
"""Run the paper's map-source protocol end to end and write its tables.

For every map source of the protocol spec: map targets for the training
annotation, the multi-task evaluation model trained on them, its tests
(in-dataset Acc/AUC, cross-dataset AUC) and the maps' quality against the
true masks of the test split. Writes, in the work dir,
``results.md``/``results.json`` (rows = map sources incl. the no-map
baseline; columns = in-dataset Acc, AUC, then CDF/WDF/DFDC/DFDCp AUC) and
``map_quality.md``/``map_quality.json`` (paired map-AUC first, then pixel
AUC, IoU, pointing game, beside the position-prior rows). Rerun the same
command to resume: finished maps, trainings and tests are kept.

Examples:
    # the demo data on CPU (python tools/misc/build_demo_data.py first)
    python tools/experiments/map_protocol.py \
        configs/experiments/map_protocol_demo.py
    python tools/experiments/map_protocol.py \
        configs/experiments/map_protocol_demo.py --sources none ssim --quick
    # FF++ on 8 GPUs
    torchrun --nproc_per_node 8 tools/experiments/map_protocol.py \
        configs/experiments/map_protocol_ffpp-c40.py --launcher pytorch
"""
import argparse

from mmfocus.utils.cli import (add_launcher_args, cli_main,
                               export_local_rank)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Run the map-source protocol and write its tables')
    p.add_argument('spec', help='protocol spec, e.g. '
                   'configs/experiments/map_protocol_demo.py')
    p.add_argument('--sources', nargs='+', metavar='NAME',
                   help='run only these sources of the spec (the tables '
                   'also list sources finished before)')
    p.add_argument('--quick', action='store_true',
                   help='smoke run with the spec\'s "quick" settings (few '
                   'iterations), in <work_dir>_quick')
    p.add_argument('--work-dir', help='override the spec\'s work_dir')
    p.add_argument('--device', help='device for map generation (default: '
                   'cuda:<local rank> when available, else cpu)')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bars')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE',
                   help='override keys of the spec (the key must exist), '
                   'e.g. data_root=... train.max_iters=100')
    add_launcher_args(p, ('none', 'pytorch', 'slurm'),
                      help='job launcher (torchrun: pytorch)')
    args = p.parse_args(argv)
    export_local_rank(args)
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.experiments import MapProtocol, load_protocol_spec
    spec = load_protocol_spec(args.spec, args.cfg_options)
    protocol = MapProtocol(spec, spec_path=args.spec, sources=args.sources,
                           quick=args.quick, work_dir=args.work_dir,
                           device=args.device, launcher=args.launcher,
                           progress=not args.no_progress)
    paths = protocol.run()
    if paths:
        for key in ('results_md', 'map_quality_md'):
            with open(paths[key]) as f:
                print(f.read())
    return paths


if __name__ == '__main__':
    cli_main(main)()
