# Copyright (c) mmfocus contributors.
"""Benchmark a config's model against two plain backbones, in one run.

Measures, in one process, interleaved (model, reference, model, ...) after a
warm-up: the training step (preprocess on the device + forward + backward +
the config's optimizer) and inference (images/s) of the config's model
(random weights) and of a reference (two timm ``deit_small_patch16_224`` by
default, random weights, same batch, precision, device and optimizer), with
their medians, spreads and the ratio model / reference; peak memory; the
data preprocessor and the modality filters alone on the device; and the
config's train pipeline (decode + transforms) through a DataLoader, in
images/s per worker, with the workers needed to feed the training step;
with ``--data-shards`` the same pipeline also reads packed shards of the same
faces (packed to a temporary folder), alternating with the PNG files.

Examples:
    python tools/analysis/benchmark.py configs/focus/vit-s_ffpp-lq.py \\
        --batch-size 128 --amp bf16 --out bench.json          # a GPU
    python tools/analysis/benchmark.py configs/focus/vit-s_ffpp-lq.py \\
        --batch-size 8 --device cpu --repeats 3 --workers 2 \\
        --cfg-options train_dataloader.dataset.data_root=data/demo_faces
    python tools/analysis/benchmark.py tests/data/focus_tiny.py \\
        --reference vit-test --batch-size 4
"""
import argparse
import copy
import tempfile


AMP_DTYPES = {'none': None, 'bf16': 'bfloat16', 'fp16': 'float16'}
#: The project's targets (issue 5), as ratios of step times (model /
#: reference); the defaults of --train-target and --infer-target.
TRAIN_TARGET = 1.15
INFER_TARGET = 1.10
#: The project's GPU aims on one H100 at 224x224 with bf16 (images/s); the
#: defaults of --gpu-train-aim and --gpu-infer-aim.
GPU_TRAIN_AIM = 3000.
GPU_INFER_AIM = 10000.


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Time the training step and inference of a config\'s '
        'model against a reference (two timm DeiT-S) in one run, '
        'interleaved; plus memory, the data preprocessor and the data '
        'pipeline')
    p.add_argument('config', help='config file path')
    p.add_argument('--batch-size', type=int, default=None,
                   help="images per step. Defaults to the config's "
                   'train_dataloader.batch_size')
    p.add_argument('--shape', type=int, nargs='+', default=None,
                   help="input size S or H W. Defaults to the model's own; "
                   "a different size sets model.backbone.img_size")
    p.add_argument('--device', default=None,
                   help='cpu, cuda or cuda:N. Defaults to cuda when present')
    p.add_argument('--amp', choices=sorted(AMP_DTYPES), default='none',
                   help='autocast dtype: bf16 (plain optimizer, no loss '
                   'scaling), fp16 (CUDA only; mmengine AmpOptimWrapper with '
                   'dynamic loss scaling, as tools/train.py --amp) or none. '
                   'Defaults to none (fp32)')
    p.add_argument('--compile', nargs='?', const='inductor', default=None,
                   metavar='BACKEND',
                   help='torch.compile the forward of both models (backend '
                   'inductor unless given, e.g. aot_eager)')
    p.add_argument('--warmup', type=int, default=2,
                   help='untimed steps of each model first. Defaults to 2')
    p.add_argument('--repeats', type=int, default=5,
                   help='timed samples of each model. Defaults to 5')
    p.add_argument('--iters', type=int, default=1,
                   help='steps per timed sample. Defaults to 1')
    p.add_argument('--infer-mode', choices=['tensor', 'predict'],
                   default='tensor',
                   help="forward mode of the inference timing: 'tensor' "
                   "(logits + maps) or 'predict' (DataSamples). "
                   'Defaults to tensor')
    p.add_argument('--reference', default='deit_small_patch16_224',
                   help="a timm model name, 'vit:dim=D,depth=L,heads=H,"
                   "patch=P,mlp=R', an alias (vit-test, vit-demo) or 'none'."
                   ' Defaults to deit_small_patch16_224')
    p.add_argument('--branches', type=int, default=None,
                   help="reference backbones. Defaults to the model's "
                   'number of branches (2 for FoCus)')
    p.add_argument('--workers', type=int, default=None,
                   help="data-pipeline workers. Defaults to the config's "
                   'train_dataloader.num_workers, at most the CPUs')
    p.add_argument('--data-samples', type=int, default=256,
                   help='images through the data pipeline (0 skips it). '
                   'Defaults to 256')
    p.add_argument('--data-shards', action='store_true',
                   help='also time the data pipeline reading packed shards '
                   '(mmfocus.datasets.shards) of the same faces, packed to '
                   'a temporary folder, alternating with the PNG files; '
                   'reports both rates per worker and their ratio')
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads (torch.set_num_threads). '
                   'Defaults to torch\'s choice')
    p.add_argument('--phases', nargs='+', choices=['train', 'infer'],
                   default=['train', 'infer'],
                   help='what to time. Defaults to both')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bars')
    p.add_argument('--no-memory', action='store_true',
                   help='skip the peak-memory pass')
    p.add_argument('--out', default=None,
                   help='write the result as JSON to this file (atomic)')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys (the key '
                   'must exist; see --allow-new-keys)')
    p.add_argument('--allow-new-keys', action='store_true',
                   help='let --cfg-options add keys the config lacks')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--train-target', type=float, default=TRAIN_TARGET,
                   metavar='RATIO',
                   help='the train-step ratio model / reference to meet. '
                   f'Defaults to {TRAIN_TARGET}')
    p.add_argument('--infer-target', type=float, default=INFER_TARGET,
                   metavar='RATIO',
                   help='the inference ratio model / reference to meet. '
                   f'Defaults to {INFER_TARGET}')
    p.add_argument('--gpu-train-aim', type=float, default=GPU_TRAIN_AIM,
                   metavar='IMG_S',
                   help='training images/s the data-pipeline workers must '
                   f'feed (the GPU aim). Defaults to {GPU_TRAIN_AIM:.0f}')
    p.add_argument('--gpu-infer-aim', type=float, default=GPU_INFER_AIM,
                   metavar='IMG_S',
                   help='the GPU inference aim in images/s, recorded in the '
                   f'result. Defaults to {GPU_INFER_AIM:.0f}')
    args = p.parse_args(argv)
    if args.shape is not None and (len(args.shape) not in (1, 2)
                                   or min(args.shape) < 1):
        p.error(f'--shape takes S or H W (positive), got {args.shape}')
    for name in ('batch_size', 'branches'):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1, got {value}')
    if args.repeats < 1 or args.iters < 1 or args.warmup < 0:
        p.error('--repeats and --iters must be >= 1, --warmup >= 0')
    if args.threads is not None and args.threads < 1:
        p.error(f'--threads must be >= 1, got {args.threads}')
    if args.workers is not None and args.workers < 0:
        p.error(f'--workers must be >= 0, got {args.workers}')
    if args.data_samples < 0:
        p.error(f'--data-samples must be >= 0, got {args.data_samples}')
    for name in ('train_target', 'infer_target', 'gpu_train_aim',
                 'gpu_infer_aim'):
        if not getattr(args, name) > 0:
            p.error(f'--{name.replace("_", "-")} must be positive, got '
                    f'{getattr(args, name)}')
    return args


def _device(name):
    import torch

    from mmfocus.utils.device import default_device
    try:
        return torch.device(default_device(name))
    except ValueError as e:
        raise ValueError(f'--device: {e}') from None


def _optim_wrapper(cfg_optim, model, amp):
    """The config's optimizer for ``model`` (a fresh one per model)."""
    from mmengine.optim import build_optim_wrapper
    optim = copy.deepcopy(cfg_optim) if cfg_optim else dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
    optim = dict(optim)
    if amp == 'fp16':
        optim['type'] = 'AmpOptimWrapper'
        optim.setdefault('loss_scale', 'dynamic')
        optim['dtype'] = 'float16'
    elif optim.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        # bf16 / fp32: autocast is applied by the benchmark, no loss scaler
        optim['type'] = 'OptimWrapper'
        optim.pop('loss_scale', None)
        optim.pop('dtype', None)
        optim.pop('use_fsdp', None)
    return build_optim_wrapper(model, optim)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    from mmfocus.analysis import benchmark as B
    from mmfocus.analysis.flops import infer_input_shape
    from mmfocus.apis.runner import load_config
    from mmfocus.registry import MODELS
    from mmfocus.utils.cli import save_result_json

    device = _device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    amp_name = AMP_DTYPES[args.amp]
    if args.amp == 'fp16' and device.type != 'cuda':
        raise ValueError('--amp fp16 needs CUDA (loss scaling); use --amp '
                         'bf16 on CPU')
    amp_dtype = getattr(torch, amp_name) if amp_name else None
    ref_spec = B.parse_reference(args.reference)  # fail before building

    cfg = load_config(args.config, args.cfg_options, args.allow_new_keys)
    if not cfg.get('model'):
        raise KeyError(f'{args.config}: the config has no "model"')
    init_default_scope(cfg.get('default_scope', 'mmfocus'))
    torch.manual_seed(args.seed)
    shape = None
    if args.shape is not None:
        shape = tuple(args.shape) * (2 // len(args.shape))
        backbone = cfg.model.get('backbone')
        if isinstance(backbone, dict) and 'img_size' in backbone:
            backbone['img_size'] = list(shape)
    try:
        model = MODELS.build(cfg.model)
    except KeyError as e:
        raise KeyError(f'{args.config}: cannot build cfg.model '
                       f'(type={cfg.model.get("type")!r}): {e}') from e
    shape = shape or infer_input_shape(model)
    loader_cfg = cfg.get('train_dataloader') or {}
    batch_size = args.batch_size or int(loader_cfg.get('batch_size', 8))
    branches = args.branches or len(getattr(model, 'branches', [0, 0]))
    dpr = float((cfg.model.get('backbone') or {}).get('drop_path_rate', 0.))
    reference = B.build_reference(
        ref_spec, shape, num_branches=branches, drop_path_rate=dpr,
        preprocessor=getattr(model, 'data_preprocessor', None))

    if device.type == 'cuda':
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = bool(
            (cfg.get('env_cfg') or {}).get('cudnn_benchmark', True))
    models = {'model': model.to(device)}
    if reference is not None:
        models['reference'] = reference.to(device)
    wrappers = {n: _optim_wrapper(cfg.get('optim_wrapper'), m, args.amp)
                for n, m in models.items()}
    warmup = args.warmup
    if args.compile:
        for m in models.values():
            B.compile_forward(m, args.compile)
        if warmup < 2:
            print(f'note: --compile: warm-up raised from {warmup} to 2 '
                  'steps so that compilation is not timed')
            warmup = 2

    collate, collate_name = B.build_collate_fn(loader_cfg)
    pin = device.type == 'cuda' and bool(loader_cfg.get('pin_memory', True))
    pipeline = (loader_cfg.get('dataset') or {}).get('pipeline')
    batch = B.make_batch(batch_size, shape, collate_fn=collate,
                         with_masks=B.loads_masks(pipeline), pin_memory=pin,
                         seed=args.seed)
    env = B.environment_info(device)
    print(f'benchmarking on {device} ({env.get("gpu") or env["cpu"]}), '
          f'batch {batch_size}, {shape[0]}x{shape[1]}, amp {args.amp} ...',
          flush=True)
    timings = B.benchmark_models(
        models, wrappers, batch, batch_size, amp_dtype=amp_dtype,
        warmup=warmup, repeats=args.repeats, iters=args.iters,
        infer_mode=args.infer_mode, memory=False,
        train='train' in args.phases, infer='infer' in args.phases,
        progress=not args.no_progress)
    pre = None
    if isinstance(getattr(model, 'data_preprocessor', None),
                  torch.nn.Module):
        pre = B.benchmark_preprocessor(model.data_preprocessor, batch,
                                       batch_size, amp_dtype=amp_dtype)

    workers = args.workers
    if workers is None:
        workers = min(int(loader_cfg.get('num_workers', 0)),
                      env['cpus'] or 1)
    if loader_cfg.get('dataset'):
        mp_cfg = (cfg.get('env_cfg') or {}).get('mp_cfg') or {}
        data = B.benchmark_data_pipeline(
            loader_cfg['dataset'], batch_size, workers, args.data_samples,
            collate_fn=collate, pin_memory=pin,
            opencv_threads=mp_cfg.get('opencv_num_threads', 0),
            seed=args.seed)
    else:
        data = dict(status='skipped',
                    reason='the config has no train_dataloader.dataset')
    shards = None
    if args.data_shards and data['status'] == 'measured':
        mp_cfg = (cfg.get('env_cfg') or {}).get('mp_cfg') or {}
        with tempfile.TemporaryDirectory(prefix='mmfocus-shards-') as tmp:
            shards = B.benchmark_shard_comparison(
                loader_cfg['dataset'], batch_size, workers, args.data_samples,
                tmp, collate_fn=collate, pin_memory=pin,
                opencv_threads=mp_cfg.get('opencv_num_threads', 0),
                seed=args.seed)
    elif args.data_shards:
        shards = dict(status='skipped', reason='no PNG data pipeline measured')
    if not args.no_memory:  # last: it changes how CPU memory is freed
        timings['memory'] = B.measure_memory(models, wrappers, batch,
                                             amp_dtype, args.infer_mode)
    wn = {}
    if data['status'] == 'measured':
        per = data['img_s_per_worker']
        train_img_s = timings.get('train', {}).get('model', {}).get('img_s')
        wn = dict(measured_train=train_img_s and B.workers_needed(
            train_img_s, per),
                  gpu_train_aim=B.workers_needed(args.gpu_train_aim, per),
                  gpu_train_aim_img_s=args.gpu_train_aim)
    if shards and shards['status'] == 'measured':
        for kind in ('png', 'shards'):
            wn[f'gpu_train_aim_{kind}'] = B.workers_needed(
                args.gpu_train_aim, shards[kind]['img_s_per_worker'])
    ref_desc = 'none' if reference is None else (
        f'{branches} x {args.reference} ({ref_spec[0]}, random weights, '
        f'drop_path_rate {dpr})')
    result = dict(
        config=args.config, reference=None if reference is None else
        args.reference, reference_desc=ref_desc, env=env,
        setting=dict(batch_size=batch_size, shape=list(shape), amp=args.amp,
                     compile=args.compile, warmup=warmup,
                     repeats=args.repeats, iters=args.iters,
                     infer_mode=args.infer_mode, collate_fn=collate_name,
                     phases=list(args.phases),
                     pin_memory=pin, seed=args.seed,
                     optimizer=type(wrappers['model'].optimizer).__name__,
                     optim_wrapper=type(wrappers['model']).__name__),
        params={n: sum(p.numel() for p in m.parameters())
                for n, m in models.items()},
        targets=dict(train_ratio=args.train_target,
                     infer_ratio=args.infer_target,
                     gpu_train_img_s=args.gpu_train_aim,
                     gpu_infer_img_s=args.gpu_infer_aim),
        models=timings, preprocessor=pre, data=data, workers_needed=wn)
    if shards is not None:
        result['data_shards'] = shards
    print(B.format_report(result))
    if args.out:
        save_result_json(args.out, result)
    return result


if __name__ == '__main__':
    from mmfocus.utils.cli import cli_main
    cli_main(main)()
