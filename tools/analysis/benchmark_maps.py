# Copyright (c) mmfocus contributors.
"""Map generation throughput: faces/s of each map source, in one run.

Times :meth:`BaseMapSource.compute` (what ``tools/generate_maps.py`` runs per
batch, without the PNG writes) of every source on the same face crops,
interleaved after a warm-up, and prints faces/s per source with its
interquartile range. Model sources are built from their config with random
weights unless a checkpoint is given (the speed does not depend on the
weights). With ``--amp`` the model sources run under ``torch.autocast`` and
the table adds how far their maps move from fp32 on the same crops.

A source is ``NAME`` (the comparison sources: ssim, pixdiff, ...) or
``NAME=CONFIG[,CHECKPOINT]`` (model sources); ``attention`` with a FoCus
config builds it with ``model.map_source='attention'`` (the -CARP map of
that architecture). The default set is the demo's shipped models (64 px).

Examples:
    python tools/analysis/benchmark_maps.py --device cpu --threads 2
    python tools/analysis/benchmark_maps.py --device cuda --amp bf16 \\
        --faces 512 --batch-size 128 \\
        --source ssim pixdiff focus=configs/focus/vit-s_ffpp-lq.py \\
        attention=configs/focus/vit-s_ffpp-lq.py \\
        gradcam=configs/vit/vit-s_ffpp-c40.py \\
        --out work_dirs/bench/maps_h200.json
"""
import argparse
import os.path as osp

from mmfocus.utils.cli import cli_main, save_result_json

_FOCUS = ('configs/focus/vit-demo_demo-sbi.py,'
          'checkpoints/focus_vit-demo_demo-sbi.pth')
_VIT = 'configs/vit/vit-demo_demo-sbi.py,checkpoints/vit_vit-demo_demo-sbi.pth'
#: The demo's shipped models (64 px): FoCus, its -CARP attention (same
#: weights) and GradCAM / ScoreCAM of the plain ViT detector.
DEFAULT_SOURCES = ('ssim', 'pixdiff', f'focus={_FOCUS}',
                   f'attention={_FOCUS}', f'gradcam={_VIT}',
                   f'scorecam={_VIT}')
DEFAULT_ANN = 'data/demo_faces/test.json'


def parse_source(spec: str):
    """``NAME`` or ``NAME=CONFIG[,CHECKPOINT]`` -> (name, config, ckpt)."""
    name, _, rest = spec.partition('=')
    if not name:
        raise ValueError(f'--source {spec!r}: no source name')
    if not rest:
        return name, None, None
    config, _, ckpt = rest.partition(',')
    return name, config, ckpt or None


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Faces/s of each map source on the same crops '
        '(interleaved), with the AMP maps\' deviation from fp32')
    p.add_argument('--source', nargs='+', default=list(DEFAULT_SOURCES),
                   metavar='NAME[=CONFIG[,CKPT]]',
                   help='map sources to time (default: ssim, pixdiff and '
                   'the demo models\' focus, attention, gradcam, scorecam)')
    p.add_argument('--ann', default=None,
                   help=f'annotation whose fakes (with a pair_path) are '
                   f'mapped (default {DEFAULT_ANN} when it exists)')
    p.add_argument('--data-root', default=None,
                   help='root of its paths (default: its folder)')
    p.add_argument('--synthetic', type=int, default=None, metavar='SIZE',
                   help='random SIZE px crops instead of an annotation')
    p.add_argument('--faces', type=int, default=32,
                   help='crops mapped per timed call (default 32)')
    p.add_argument('--batch-size', type=int, default=16,
                   help='crops per forward pass (default 16)')
    p.add_argument('--score-batch-size', type=int, default=64,
                   help='scorecam: masked images per pass (default 64)')
    p.add_argument('--warmup', type=int, default=1,
                   help='untimed rounds (default 1)')
    p.add_argument('--repeats', type=int, default=3,
                   help='timed rounds (default 3)')
    p.add_argument('--device', default=None,
                   help='cpu, cuda, cuda:N (default: cuda when present)')
    p.add_argument('--amp', choices=['none', 'bf16', 'fp16'],
                   default='none', help='autocast dtype of the model '
                   'sources (default none: fp32)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads')
    p.add_argument('--out', default=None, help='write the result as JSON')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bar')
    args = p.parse_args(argv)
    for name in ('faces', 'batch_size', 'score_batch_size', 'repeats'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0:
        p.error('--warmup must be >= 0')
    if args.threads is not None and args.threads < 1:
        p.error('--threads must be >= 1')
    if args.synthetic is not None and args.ann:
        p.error('--synthetic and --ann exclude each other')
    if args.synthetic is None and args.ann is None:
        if not osp.isfile(DEFAULT_ANN):
            p.error(f'{DEFAULT_ANN} not found: give --ann, or --synthetic '
                    'SIZE (or build the demo data: python '
                    'tools/misc/build_demo_data.py)')
        args.ann = DEFAULT_ANN
    try:
        args.source = [parse_source(s) for s in args.source]
    except ValueError as e:
        p.error(str(e))
    return args


def build_sources(specs, device: str, score_batch_size: int):
    """Label -> (source, model); one model per (config, checkpoint,
    map_source)."""
    from mmfocus.apis.inference import init_model
    from mmfocus.apis.runner import load_config
    from mmfocus.maps.sources import build_map_source, map_source_class

    models, out = {}, {}
    for name, config, ckpt in specs:
        cls = map_source_class(name)
        opts = dict(score_batch_size=score_batch_size) \
            if name in ('gradcam', 'scorecam') else {}
        src = build_map_source(name, **opts)
        model = None
        if cls.needs_model:
            if not config:
                raise ValueError(f'source {name} needs a model: give '
                                 f'{name}=CONFIG[,CHECKPOINT]')
            cfg_options = {}
            if name == 'attention' and load_config(
                    config).model.get('type') == 'FoCus':
                cfg_options['model.map_source'] = 'attention'
            key = (config, ckpt, tuple(sorted(cfg_options.items())))
            if key not in models:
                models[key] = init_model(config, ckpt, device=device,
                                         cfg_options=cfg_options or None)
            model = models[key]
        elif config:
            raise ValueError(f'source {name} takes no model (got {config})')
        label = name if name not in out else f'{name}:{config}'
        out[label] = (src, model, config)
    return out


def _rate(x: float) -> str:
    """One decimal, or three significant digits below 1 (ScoreCAM on a
    CPU maps well under a face per second)."""
    return f'{x:.1f}' if x >= 1 else f'{x:.3g}'


def format_table(result: dict, configs: dict) -> str:
    amp = result['amp']
    head = '| source | model (config) | faces/s [IQR] | ms per face |'
    rule = '|---|---|---|---|'
    if amp:
        head += f' {amp} vs fp32: max / mean abs diff, pixel r |'
        rule += '---|'
    lines = [head, rule]
    for label, r in result['sources'].items():
        model = f'{r["model"]} ({osp.basename(configs[label])})' \
            if r['model'] else '-'
        line = (f'| {label} | {model} | {_rate(r["faces_s"])} '
                f'[{_rate(r["faces_s_q1"])}, {_rate(r["faces_s_q3"])}] | '
                f'{r["ms_per_face"]:.2f} |')
        if amp:
            d = r.get('amp_deviation')
            line += (f' {d["max_abs"]:.4f} / {d["mean_abs"]:.4f}, '
                     f'{d["pixel_corr"]:.4f} |' if d else ' - |')
        lines.append(line)
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    from mmfocus.analysis.benchmark import (benchmark_map_sources,
                                            environment_info, load_pairs,
                                            synthetic_pairs)
    from mmfocus.utils.device import default_device

    device = default_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmfocus')
    built = build_sources(args.source, device, args.score_batch_size)
    if args.synthetic is not None:
        fakes, twins = synthetic_pairs(args.faces, args.synthetic)
        data = dict(kind='synthetic', size=args.synthetic)
    else:
        root = args.data_root or osp.dirname(osp.abspath(args.ann))
        fakes, twins, distinct = load_pairs(args.ann, root, args.faces)
        data = dict(kind='annotation', ann=args.ann, distinct=distinct,
                    size=list(fakes[0].shape[:2]))
    env = environment_info(device)
    print(f'timing {len(built)} map sources on {device} '
          f'({env.get("gpu") or env["cpu"]}), {args.faces} faces per call, '
          f'batch {args.batch_size}, amp {args.amp} ...', flush=True)
    result = benchmark_map_sources(
        {k: (s, m) for k, (s, m, _) in built.items()}, fakes, twins,
        batch_size=args.batch_size, warmup=args.warmup,
        repeats=args.repeats, amp=None if args.amp == 'none' else args.amp,
        device=device, progress=None if args.no_progress else 'maps')
    configs = {k: c for k, (_, _, c) in built.items()}
    for k, c in configs.items():
        result['sources'][k]['config'] = c
    result.update(data=data, environment=env, device=str(device),
                  threads=torch.get_num_threads())
    print(format_table(result, configs))
    if args.out:
        save_result_json(args.out, result)
    return result


if __name__ == '__main__':
    cli_main(main)()
