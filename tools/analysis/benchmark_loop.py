# Copyright (c) mmfocus contributors.
"""The real training loop against the bare training step, in one run.

Builds the config's runner (mmengine Runner with the config's hooks,
optimizer wrapper, LR schedule and logger; random weights; no validation,
no checkpoints) on an in-memory set of random ``--batch-size`` samples, so
that decoding and augmentation are left out (``tools/analysis/benchmark.py``
times those), trains ``--warmup + --iters`` iterations and times the last
``--iters`` with the device synchronised at both ends; then, on the same
model and optimizer, times ``--iters`` bare steps
(``BaseModel.train_step``'s work: preprocess, forward, losses, backward,
optimizer). The ratio step time / loop time is the share of the step's
throughput the real loop reaches (issue 15's target: >= 0.90). The host time
each hook spends per iteration is reported beside it; on a GPU a hook that
reads a tensor back (mmengine's ``RuntimeInfoHook``: ``.item()`` on every
log variable) shows the time it waits for the device there.

Each repeat builds one runner per hook variant, interleaved: ``config``
(the config's own hooks; mmfocus' default runtime uses
``DeferredRuntimeInfoHook``, one host read per logger interval) and
``mmengine`` (mmengine's ``RuntimeInfoHook``, one read per log variable and
iteration).

Examples:
    python tools/analysis/benchmark_loop.py configs/focus/vit-s_ffpp-lq.py \\
        --batch-size 128 --amp bf16 --iters 100 --out loop.json    # a GPU
    python tools/analysis/benchmark_loop.py \\
        configs/focus/vit-demo_demo-sbi_quick.py --device cpu --iters 20
"""
import argparse
import copy
import os.path as osp
import tempfile
import uuid

from mmfocus.utils.cli import cli_main, save_result_json

VARIANTS = {
    'config': None,  # the config's own runtime_info hook
    'mmengine': dict(type='RuntimeInfoHook'),
    'deferred': dict(type='DeferredRuntimeInfoHook'),
}
#: issue 15: the loop reaches >= 90 % of the step's throughput
LOOP_TARGET = 0.90


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Time a config\'s real training loop (Runner, hooks, '
        'logging) against the bare training step of the same model')
    p.add_argument('config', help='config file path')
    p.add_argument('--batch-size', type=int, default=None,
                   help="images per iteration. Defaults to the config's "
                   'train_dataloader.batch_size')
    p.add_argument('--device', default=None,
                   help='cpu, cuda or cuda:N. Defaults to cuda when present')
    p.add_argument('--amp', choices=['none', 'bf16', 'fp16'], default='none',
                   help='as tools/train.py --amp. Defaults to none (fp32)')
    p.add_argument('--warmup', type=int, default=5,
                   help='untimed iterations first (>= 1). Defaults to 5')
    p.add_argument('--iters', type=int, default=50,
                   help='timed iterations. Defaults to 50')
    p.add_argument('--repeats', type=int, default=3,
                   help='runners built per variant. Defaults to 3')
    p.add_argument('--variants', nargs='+', choices=sorted(VARIANTS),
                   default=['config', 'mmengine'],
                   help='hook variants, interleaved. Defaults to config '
                   'mmengine')
    p.add_argument('--log-interval', type=int, default=None,
                   help="LoggerHook interval. Defaults to the config's")
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads. Defaults to torch\'s choice')
    p.add_argument('--out', default=None,
                   help='write the result as JSON to this file (atomic)')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys')
    p.add_argument('--allow-new-keys', action='store_true',
                   help='let --cfg-options add keys the config lacks')
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    if args.warmup < 1 or args.iters < 1 or args.repeats < 1:
        p.error('--warmup, --iters and --repeats must be >= 1')
    for name in ('batch_size', 'threads', 'log_interval'):
        v = getattr(args, name)
        if v is not None and v < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1, got {v}')
    return args


def loop_config(cfg, variant, batch_size, data, work_dir, warmup, iters,
                pin_memory, seed, log_interval=None):
    """``cfg`` made into a timing run: ``warmup + iters`` iterations on
    the dataset config ``data``, no validation, test or checkpoints, its
    own experiment name (so each runner gets its own visualizer)."""
    from mmfocus.utils.config import drop_validation
    cfg = copy.deepcopy(cfg)
    drop_validation(cfg)
    for key in ('test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg.pop(key, None)
    cfg.load_from, cfg.resume = None, False
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed)
    cfg.experiment_name = f'loop_{variant}_{uuid.uuid4().hex[:8]}'
    cfg.log_level = 'WARNING'  # the logger hook still formats its lines
    cfg.train_cfg = dict(type='IterBasedTrainLoop',
                         max_iters=warmup + iters)
    loader = dict(cfg.get('train_dataloader') or {})
    cfg.train_dataloader = dict(
        dataset=data, batch_size=batch_size,
        num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=False),
        collate_fn=loader.get('collate_fn') or dict(type='pseudo_collate'),
        pin_memory=pin_memory)
    hooks = dict(cfg.get('default_hooks') or {})
    hooks['checkpoint'] = None
    if VARIANTS[variant] is not None:
        hooks['runtime_info'] = VARIANTS[variant]
    if log_interval:
        hooks['logger'] = dict(hooks.get('logger') or
                               dict(type='LoggerHook'), interval=log_interval)
    cfg.default_hooks = hooks
    # the test-time map dump does not run in training; keep the rest
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks') or []
                        if h.get('type') != 'ManipulationMapHook']
    return cfg


def main(argv=None):
    args = parse_args(argv)
    import torch

    from mmfocus.analysis import benchmark as B
    from mmfocus.analysis.flops import infer_input_shape
    from mmfocus.apis.runner import build_runner, load_config
    from mmfocus.registry import MODELS
    from mmfocus.utils.config import apply_amp
    from mmfocus.utils.device import default_device
    from mmengine.registry import init_default_scope

    device = torch.device(default_device(args.device))
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    cfg = load_config(args.config, args.cfg_options, args.allow_new_keys)
    if not cfg.get('model') or not cfg.get('optim_wrapper'):
        raise KeyError(f'{args.config}: the config needs "model" and '
                       '"optim_wrapper" to train')
    amp = 'none'
    if args.amp != 'none':
        amp = apply_amp(cfg, args.amp)
    init_default_scope(cfg.get('default_scope', 'mmfocus'))
    backbone = cfg.model.get('backbone')
    if isinstance(backbone, dict) and backbone.get('pretrained'):
        backbone['pretrained'] = None  # random weights, as benchmark.py
    shape = infer_input_shape(MODELS.build(cfg.model))
    loader_cfg = cfg.get('train_dataloader') or {}
    batch_size = args.batch_size or int(loader_cfg.get('batch_size', 8))
    pin = device.type == 'cuda' and bool(loader_cfg.get('pin_memory', True))
    pipeline = (loader_cfg.get('dataset') or {}).get('pipeline')
    data = dict(type='RandomFaceDataset', num_samples=batch_size,
                shape=list(shape), with_masks=B.loads_masks(pipeline),
                seed=args.seed)
    # the step's batch: the same samples, collated and pinned as the loop's
    collate, _ = B.build_collate_fn(loader_cfg)
    batch = B.make_batch(batch_size, shape, collate_fn=collate,
                         with_masks=data['with_masks'], pin_memory=pin,
                         seed=args.seed)
    sync = (lambda: torch.cuda.synchronize(device)) \
        if device.type == 'cuda' else None
    env = B.environment_info(device)
    print(f'timing the training loop on {device} '
          f'({env.get("gpu") or env["cpu"]}), batch {batch_size}, '
          f'{shape[0]}x{shape[1]}, amp {amp}, variants {args.variants} ...',
          flush=True)
    runs = {v: [] for v in args.variants}
    with tempfile.TemporaryDirectory(prefix='mmfocus-loop-') as tmp:
        for r in range(args.repeats):
            for v in args.variants:
                run_cfg = loop_config(
                    cfg, v, batch_size, data, osp.join(tmp, f'{v}_{r}'),
                    args.warmup, args.iters, pin, args.seed,
                    args.log_interval)
                runner = build_runner(run_cfg)
                runs[v].append(B.measure_loop(runner, batch, args.warmup,
                                              args.iters, sync))
                print(f'  repeat {r + 1}/{args.repeats} {v}: loop '
                      f'{runs[v][-1]["loop_s"]:.4f} s/iter, step '
                      f'{runs[v][-1]["step_s"]:.4f} s', flush=True)
                del runner
    result = dict(
        config=args.config, env=env,
        setting=dict(batch_size=batch_size, shape=list(shape), amp=amp,
                     warmup=args.warmup, iters=args.iters,
                     repeats=args.repeats, variants=list(args.variants),
                     log_interval=args.log_interval, seed=args.seed,
                     target=LOOP_TARGET, data='in-memory random samples'),
        variants=B.summarize_loop(runs, batch_size), runs=runs)
    print(B.format_loop_report(result))
    if args.out:
        save_result_json(args.out, result)
    return result


if __name__ == '__main__':
    cli_main(main)()
