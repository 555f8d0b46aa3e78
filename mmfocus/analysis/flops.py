# Copyright (c) mmfocus contributors.
"""FLOP and parameter counting for whole models, fused attention included.

fvcore's :class:`~fvcore.nn.FlopCountAnalysis` (and mmengine's counter,
which is derived from it) has no handle for
``aten::scaled_dot_product_attention``: a timm ViT with fused attention (the
default) is under-counted by the two attention matrix products, e.g. DeiT-S
at 224x224 reads 4.251 G instead of the published 4.608 G. This module adds
handles for the public op and for its backend ops (flash, efficient, cuDNN,
math, ...) and counts a model's whole forward pass, whatever its inputs
(a tensor, a tuple, or the ``{modality: tensor}`` dict of the FoCus model).

Convention (fvcore's, and the one of the published ViT numbers): one fused
multiply-add counts as one FLOP; softmax, scaling and element-wise ops are
not counted.
"""
import inspect
import math
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

__all__ = [
    'SDPA_OPS', 'sdpa_flops', 'sdpa_flop_jit', 'count_flops',
    'format_flops_table', 'build_dummy_inputs', 'infer_input_shape',
    'format_count'
]

#: Every aten op that a trace can hold for scaled dot-product attention.
#: ``torch.jit`` traces record the public op
#: ``aten::scaled_dot_product_attention``, not the backend it dispatches to
#: (measured: torch 2.14 CPU; torch 2.11 CUDA H200 in fp32/fp16/bf16 and
#: under autocast); the backend ops appear when code calls them directly.
#: All take ``query, key, value`` first, laid out ``(..., L, E)``,
#: ``(..., S, E)`` and ``(..., S, Ev)``.
SDPA_OPS: Tuple[str, ...] = (
    'aten::scaled_dot_product_attention',
    'aten::_scaled_dot_product_attention_math',
    'aten::_scaled_dot_product_attention_math_for_mps',
    'aten::_scaled_dot_product_flash_attention',
    'aten::_scaled_dot_product_flash_attention_for_cpu',
    'aten::_scaled_dot_product_efficient_attention',
    'aten::_scaled_dot_product_cudnn_attention',
    'aten::_scaled_dot_product_fused_attention_overrideable',
)


def _jit_shape(val: Any) -> Optional[List[int]]:
    """Shape of a traced ``torch._C.Value``, or None when unknown."""
    from fvcore.nn.jit_handles import get_shape
    return get_shape(val)


def sdpa_flops(q_shape: Sequence[int], k_shape: Sequence[int],
               v_shape: Sequence[int]) -> int:
    """Multiply-adds of ``softmax(q k^T) v`` for the given shapes.

    ``q`` is ``(*batch, L, E)``, ``k`` is ``(*, S, E)``, ``v`` is
    ``(*, S, Ev)``; 3-D and 4-D inputs (and any number of leading dims) are
    supported. The batch is the query's leading dims, so grouped-query
    attention (fewer key/value heads) is counted per query head, as computed.
    The attention mask and causality are ignored (dense count).

    Args:
        q_shape (Sequence[int]): Query shape.
        k_shape (Sequence[int]): Key shape.
        v_shape (Sequence[int]): Value shape.

    Returns:
        int: ``batch * L * S * E + batch * L * S * Ev``.
    """
    if len(q_shape) < 2 or len(k_shape) < 2 or len(v_shape) < 2:
        raise ValueError(f'attention inputs must be at least 2-D, got q '
                         f'{list(q_shape)}, k {list(k_shape)}, v '
                         f'{list(v_shape)}')
    if q_shape[-1] != k_shape[-1] or k_shape[-2] != v_shape[-2]:
        raise ValueError(f'inconsistent attention shapes: q {list(q_shape)}, '
                         f'k {list(k_shape)}, v {list(v_shape)}')
    batch = math.prod(q_shape[:-2])
    n_q, d = q_shape[-2], q_shape[-1]
    n_k, d_v = k_shape[-2], v_shape[-1]
    return int(batch * n_q * n_k * d + batch * n_q * n_k * d_v)


def sdpa_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """fvcore op handle for scaled dot-product attention.

    Counts ``q @ k^T`` and ``attn @ v`` as multiply-adds (see
    :func:`sdpa_flops`), reading the shapes from the traced inputs.

    Args:
        inputs (list[torch._C.Value]): The traced op's inputs; the first
            three are query, key and value.
        outputs (list[torch._C.Value]): The traced op's outputs (unused).

    Returns:
        int: The FLOP count (multiply-adds).
    """
    shapes = [_jit_shape(v) for v in inputs[:3]]
    if any(s is None for s in shapes):
        raise ValueError('scaled_dot_product_attention: the trace holds no '
                         'complete shape for query/key/value')
    return sdpa_flops(*shapes)


def format_count(num: Union[int, float], unit: Optional[str] = None,
                 precision: int = 3) -> str:
    """Format a count, e.g. ``4.608 G``.

    Args:
        num (int | float): The count.
        unit (str, optional): One of ``''``, ``'K'``, ``'M'``, ``'G'``,
            ``'T'``; None picks the largest unit not above ``num``.
            Defaults to None.
        precision (int): Decimals. Defaults to 3.

    Returns:
        str: The formatted count.
    """
    scale = {'': 1, 'K': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12}
    if unit is None:
        unit = ''
        for name in ('T', 'G', 'M', 'K'):
            if abs(num) >= scale[name]:
                unit = name
                break
    if unit not in scale:
        raise ValueError(f'unknown unit {unit!r}; use one of {list(scale)}')
    if unit == '':
        return str(int(num)) if float(num).is_integer() else f'{num}'
    return f'{num / scale[unit]:.{precision}f} {unit}'


# --------------------------------------------------------------------------
# Inputs: any nesting of tensors (tensor, tuple/list, dict) is flattened to
# positional tensors for the tracer and rebuilt inside the adapter.
# --------------------------------------------------------------------------
def _flatten(obj: Any, leaves: List[torch.Tensor]) -> Any:
    """Replace every tensor in ``obj`` by its index in ``leaves``."""
    if isinstance(obj, torch.Tensor):
        leaves.append(obj)
        return _Leaf(len(leaves) - 1)
    if isinstance(obj, dict):
        return {k: _flatten(v, leaves) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_flatten(v, leaves) for v in obj)
    return obj


def _unflatten(spec: Any, leaves: Sequence[torch.Tensor]) -> Any:
    if isinstance(spec, _Leaf):
        return leaves[spec.index]
    if isinstance(spec, dict):
        return {k: _unflatten(v, leaves) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return type(spec)(_unflatten(v, leaves) for v in spec)
    return spec


class _Leaf:
    """Placeholder for the tensor at ``index`` in the flat input list."""

    def __init__(self, index: int) -> None:
        self.index = index


def _output_tensors(obj: Any) -> List[torch.Tensor]:
    """All tensors in a nested output (tensor, dict, sequence, or an object
    with ``to_dict``/``__dict__`` such as mmengine data elements)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        items = obj.values()
    elif isinstance(obj, (list, tuple)):
        items = obj
    elif hasattr(obj, 'to_dict'):
        items = obj.to_dict().values()
    else:
        return []
    out: List[torch.Tensor] = []
    for v in items:
        out.extend(_output_tensors(v))
    return out


def _accepts_mode(model: nn.Module) -> bool:
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False
    return 'mode' in params


def _describe_shape(inputs: Any) -> Any:
    """JSON-friendly shapes of the input structure."""
    if isinstance(inputs, torch.Tensor):
        return list(inputs.shape)
    if isinstance(inputs, dict):
        return {str(k): _describe_shape(v) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return [_describe_shape(v) for v in inputs]
    return repr(inputs)


class _TraceAdapter(nn.Module):
    """Takes flat tensors, rebuilds the model's inputs and calls it.

    A tensor or a tuple is passed positionally (``model(*inputs)``); a dict is
    passed as one argument, with ``mode='tensor'`` when the model's forward
    takes a ``mode`` (mmengine ``BaseModel``). Outputs are flattened to a
    tuple of tensors, which is all the tracer accepts. The wrapped model is
    the child ``model``; :func:`count_flops` strips that prefix again.
    """

    PREFIX = 'model'

    def __init__(self, model: nn.Module, spec: Any) -> None:
        super().__init__()
        self.model = model
        self.spec = spec
        self.pass_mode = isinstance(spec, dict) and _accepts_mode(model)

    def forward(self, *leaves: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        inputs = _unflatten(self.spec, leaves)
        if isinstance(inputs, tuple):
            out = self.model(*inputs)
        elif self.pass_mode:
            out = self.model(inputs, mode='tensor')
        else:
            out = self.model(inputs)
        tensors = _output_tensors(out)
        if not tensors:
            raise RuntimeError(
                f'{type(self.model).__name__}.forward returned no tensor '
                f'(got {type(out).__name__}); nothing to trace')
        return tuple(tensors)


def _strip_prefix(name: str) -> str:
    prefix = _TraceAdapter.PREFIX
    if name == prefix:
        return ''
    if name.startswith(prefix + '.'):
        return name[len(prefix) + 1:]
    return name


def _depth(name: str) -> int:
    return 0 if name == '' else name.count('.') + 1


def count_flops(model: nn.Module,
                inputs: Union[torch.Tensor, tuple, dict],
                by_module_depth: int = 2) -> Dict[str, Any]:
    """Count FLOPs (multiply-adds) and parameters of a model's forward pass.

    The model runs once, traced by fvcore, in eval mode under
    ``torch.no_grad``; every module's ``training`` flag is restored after.
    Attention through ``F.scaled_dot_product_attention`` is counted (see
    :data:`SDPA_OPS`).

    Args:
        model (nn.Module): The model; an mmengine ``BaseModel`` given a dict
            is called as ``model(inputs, mode='tensor')``.
        inputs (Tensor | tuple | dict): A tensor (``model(x)``), a tuple of
            positional inputs (``model(*inputs)``) or a dict such as
            ``{'rgb': x, 'sobel': s}`` (``model(inputs[, mode='tensor'])``).
        by_module_depth (int): Report modules down to this depth (``'a'`` is
            depth 1, ``'a.b'`` depth 2; ``''`` is the whole model).
            Defaults to 2.

    Returns:
        dict: ``flops`` (int), ``params`` (int), ``flops_str``,
        ``params_str``, ``by_module`` (``{name: {'flops', 'params'}}``, in
        module order, ``''`` = whole model), ``unsupported_ops``
        (``{op: count}``: ops with FLOPs that were not counted) and
        ``input_shape``.

    Example:
        >>> import timm, torch
        >>> m = timm.create_model('deit_small_patch16_224')
        >>> res = count_flops(m, torch.zeros(1, 3, 224, 224))
        >>> res['flops_str'], res['params']
        ('4.608 G', 22050664)
    """
    from fvcore.nn import FlopCountAnalysis, parameter_count

    if not isinstance(model, nn.Module):
        raise TypeError(f'model must be an nn.Module, got {type(model)}')
    leaves: List[torch.Tensor] = []
    spec = _flatten(inputs, leaves)
    if not leaves:
        raise ValueError(f'inputs hold no tensor: {type(inputs).__name__}')
    if isinstance(inputs, torch.Tensor):
        spec = (spec, )
    elif isinstance(inputs, list):
        spec = tuple(spec)

    adapter = _TraceAdapter(model, spec)
    modes = {name: m.training for name, m in model.named_modules()}
    try:
        model.eval()
        with torch.no_grad():
            analysis = FlopCountAnalysis(adapter, tuple(leaves))
            for op in SDPA_OPS:
                analysis.set_op_handle(op, sdpa_flop_jit)
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            analysis.tracer_warnings('none')
            try:
                total = int(analysis.total())
            except Exception as err:
                raise RuntimeError(
                    f'counting FLOPs of {type(model).__name__} on input '
                    f'{_describe_shape(inputs)} failed: '
                    f'{type(err).__name__}: {err}') from err
            module_flops = analysis.by_module()
            unsupported = dict(Counter(analysis.unsupported_ops()))
    finally:
        for name, m in model.named_modules():
            if name in modes:
                m.training = modes[name]

    params = parameter_count(model)
    flops_by_name = Counter()
    for name, value in module_flops.items():
        stripped = _strip_prefix(name)
        # '' (adapter) and 'model' (wrapped model) both hold the total.
        flops_by_name[stripped] = max(flops_by_name[stripped], int(value))
    by_module: Dict[str, Dict[str, int]] = {}
    for name, _ in model.named_modules():
        if _depth(name) > by_module_depth:
            continue
        by_module[name] = dict(
            flops=int(flops_by_name.get(name, 0)),
            params=int(params.get(name, 0)))
    by_module[''] = dict(flops=total, params=int(params.get('', 0)))

    n_params = int(params.get('', 0))
    return dict(
        flops=total,
        params=n_params,
        flops_str=format_count(total),
        params_str=format_count(n_params),
        by_module=by_module,
        unsupported_ops={str(k): int(v) for k, v in unsupported.items()},
        input_shape=_describe_shape(inputs))


def format_flops_table(result: Dict[str, Any]) -> str:
    """A readable per-module table of a :func:`count_flops` result.

    Args:
        result (dict): The output of :func:`count_flops`.

    Returns:
        str: One line per module (indented by depth) with its parameters and
        FLOPs, then the totals and any ops left uncounted.
    """
    rows = [('module', '#params', '#flops')]
    for name, rec in result['by_module'].items():
        label = 'model' if name == '' else \
            '  ' * _depth(name) + name.rsplit('.', 1)[-1]
        if name and rec['flops'] == 0 and rec['params'] == 0:
            continue
        rows.append((label, _human(rec['params']), _human(rec['flops'])))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for i, (a, b, c) in enumerate(rows):
        lines.append(f'| {a:<{widths[0]}} | {b:>{widths[1]}} | '
                     f'{c:>{widths[2]}} |')
        if i == 0:
            lines.append('|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    lines.append(f'Total: {result["flops_str"]} FLOPs (multiply-adds), '
                 f'{result["params_str"]} params ({result["params"]:,}), '
                 f'input {result["input_shape"]}')
    if result.get('unsupported_ops'):
        ops = ', '.join(f'{k} x{v}'
                        for k, v in sorted(result['unsupported_ops'].items()))
        lines.append(f'Not counted (element-wise by convention, or no '
                     f'handle): {ops}')
    return '\n'.join(lines)


def _human(num: int) -> str:
    for unit, scale in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if abs(num) >= scale:
            return f'{num / scale:.3f}{unit}'
    return str(int(num))


def infer_input_shape(model: nn.Module,
                      default: Sequence[int] = (224, 224)) -> Tuple[int, int]:
    """The input size a model expects, where it says so.

    Looks for a patch embedding's ``img_size`` (timm ``PatchEmbed`` and ViTs
    built on it, which refuse other sizes), then a timm ``pretrained_cfg``
    ``input_size``; falls back to ``default``.

    Args:
        model (nn.Module): The model.
        default (Sequence[int]): ``(H, W)`` when the model does not say.
            Defaults to ``(224, 224)``.

    Returns:
        tuple[int, int]: ``(H, W)``.
    """
    for m in model.modules():
        size = getattr(m, 'img_size', None)
        if isinstance(size, int):
            return size, size
        if isinstance(size, (tuple, list)) and len(size) == 2 and all(
                isinstance(v, int) for v in size):
            return int(size[0]), int(size[1])
    cfg = getattr(model, 'pretrained_cfg', None)
    if isinstance(cfg, dict) and len(cfg.get('input_size', ())) == 3:
        return int(cfg['input_size'][1]), int(cfg['input_size'][2])
    return _hw(default)


def build_dummy_inputs(model: nn.Module,
                       input_shape: Union[None, int, Sequence[int]] = (224,
                                                                      224),
                       batch_size: int = 1,
                       seed: int = 0) -> Any:
    """A dummy batch for ``model``, made the way the model sees real data.

    When the model has a ``data_preprocessor`` (mmengine ``BaseModel``), a
    random uint8 image of ``(3, H, W)`` goes through it
    (``training=False``), so the result is what ``forward`` receives, e.g.
    the FoCus ``{'rgb': ..., 'sobel': ...}`` dict. A preprocessor that
    returns a list of images is stacked and cast to float. Without a
    preprocessor, a float tensor ``(batch, 3, H, W)`` on the model's device
    is returned. The global RNG is not used (a local generator is seeded).

    Args:
        model (nn.Module): The model.
        input_shape (int | Sequence[int], optional): ``S`` (square) or
            ``(H, W)``; None asks the model (:func:`infer_input_shape`).
            Defaults to ``(224, 224)``.
        batch_size (int): Number of images. Defaults to 1.
        seed (int): Seed of the local generator. Defaults to 0.

    Returns:
        Tensor | dict | tuple: The model's inputs.
    """
    h, w = infer_input_shape(model) if input_shape is None else \
        _hw(input_shape)
    gen = torch.Generator().manual_seed(seed)
    preprocessor = getattr(model, 'data_preprocessor', None)
    if isinstance(preprocessor, nn.Module):
        imgs = [
            torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen)
            for _ in range(batch_size)
        ]
        with torch.no_grad():
            data = preprocessor(
                dict(inputs=imgs, data_samples=None), training=False)
        inputs = data['inputs'] if isinstance(data, dict) else data
        if isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(x, torch.Tensor) for x in inputs):
            inputs = torch.stack(list(inputs))
        if isinstance(inputs, torch.Tensor) and not inputs.is_floating_point():
            inputs = inputs.float()
        return inputs
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device('cpu')
    return torch.rand((batch_size, 3, h, w), generator=gen).to(device)


def _hw(input_shape: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(input_shape, int):
        return input_shape, input_shape
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape
    if len(shape) == 3:  # (C, H, W)
        return shape[1], shape[2]
    raise ValueError(f'input_shape must be S, (H, W) or (C, H, W), got '
                     f'{input_shape}')
