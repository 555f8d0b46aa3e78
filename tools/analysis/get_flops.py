# Copyright (c) mmfocus contributors.
"""Count the FLOPs and parameters of a whole model (all branches).

Unlike fvcore's or mmengine's plain counters, fused attention
(``F.scaled_dot_product_attention``, used by timm ViTs) is counted, so a
DeiT-S reads the published 4.608 GFLOPs. One multiply-add counts as one FLOP.
The dummy batch goes through the model's own data preprocessor, so a
two-modality model (RGB + Sobel) is counted with both branches.

Examples:
    python tools/analysis/get_flops.py configs/focus/vit-s_ffpp-lq.py
    python tools/analysis/get_flops.py CONFIG --shape 256 --out flops.json
    python tools/analysis/get_flops.py --timm deit_small_patch16_224
"""
import argparse
import os.path as osp


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Count FLOPs (multiply-adds, attention included) and '
        'parameters of a whole model')
    p.add_argument('config', nargs='?', default=None,
                   help='config file path (or use --timm)')
    p.add_argument('--timm', metavar='NAME', default=None,
                   help='count a timm model by name instead of a config '
                   '(random weights, nothing is downloaded)')
    p.add_argument('--shape', type=int, nargs='+', default=None,
                   help='input size: S (square) or H W. Defaults to the '
                   "model's own (a ViT's img_size), else 224")
    p.add_argument('--depth', type=int, default=2,
                   help='module depth of the per-module table. Defaults to 2')
    p.add_argument('--out', default=None,
                   help='write the result as JSON to this file')
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='override config keys (the key '
                   'must exist; see --allow-new-keys)')
    p.add_argument('--allow-new-keys', action='store_true',
                   help='let --cfg-options add keys the config lacks')
    args = p.parse_args(argv)
    if (args.config is None) == (args.timm is None):
        p.error('give either a config file or --timm NAME (not both)')
    if args.shape is not None and len(args.shape) not in (1, 2):
        p.error(f'--shape takes S or H W, got {args.shape}')
    if args.timm is not None and args.cfg_options:
        p.error('--cfg-options applies to a config, not to --timm')
    return args


def build_model_from_config(path, cfg_options=None, allow_new_keys=False):
    """Build ``cfg.model`` of a config in the config's default scope.

    Raises:
        FileNotFoundError: the config does not exist.
        KeyError: the config has no ``model``, an option names an unknown
            key, or the model type is not registered.
    """
    from mmengine.registry import init_default_scope

    from mmfocus.apis.runner import load_config
    cfg = load_config(path, cfg_options, allow_new_keys)
    if not cfg.get('model'):
        raise KeyError(f'{path}: the config has no "model" to count')
    init_default_scope(cfg.get('default_scope', 'mmfocus'))
    from mmfocus.registry import MODELS
    try:
        return MODELS.build(cfg.model)
    except KeyError as e:
        raise KeyError(f'{path}: cannot build cfg.model '
                       f'(type={cfg.model.get("type")!r}): {e}') from e


def build_timm_model(name):
    import timm
    if not timm.is_model(name):
        raise KeyError(f'unknown timm model: {name}')
    return timm.create_model(name, pretrained=False)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from mmfocus.analysis.flops import (build_dummy_inputs, count_flops,
                                        format_flops_table)
    from mmfocus.utils.io import atomic_write_json

    if args.timm is not None:
        model = build_timm_model(args.timm)
        source = f'timm:{args.timm}'
    else:
        model = build_model_from_config(args.config, args.cfg_options,
                                        args.allow_new_keys)
        source = args.config
    model.eval()
    with torch.no_grad():
        inputs = build_dummy_inputs(model, args.shape)
    result = count_flops(model, inputs, by_module_depth=args.depth)
    result['source'] = source
    result['model_type'] = type(model).__name__

    print(format_flops_table(result))
    print('=' * 60)
    print(f'Model: {type(model).__name__} ({source})')
    print(f'Input shape: {result["input_shape"]}')
    print(f'Flops: {result["flops_str"]} ({result["flops"]:,})')
    print(f'Params: {result["params_str"]} ({result["params"]:,})')
    print('=' * 60)
    print('Note: 1 multiply-add = 1 FLOP; the whole forward pass is counted '
          '(every branch), attention (scaled_dot_product_attention) '
          'included; element-wise ops (add, gelu, softmax, ...) are not.')
    if args.out:
        atomic_write_json(args.out, result)
        print(f'Wrote {osp.abspath(args.out)}')
    return result


if __name__ == '__main__':
    from mmfocus.utils.cli import cli_main
    cli_main(main)()
