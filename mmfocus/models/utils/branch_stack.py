# Copyright (c) mmfocus contributors.
"""Run several modules of one architecture as one batched computation.

FoCus' two ViT branches have the same shapes. Stacking their parameters
(``torch.stack``, so gradients reach each branch's own parameters) and
mapping one ``functional_call`` over the stack with ``torch.func.vmap``
turns each branch's linear layers into one batched matmul and halves the
number of kernel launches, without changing the modules, their state dict
or their initialisation.
"""
from typing import List, Sequence, Tuple

import torch
from torch import nn

__all__ = ['check_stackable', 'stacked_forward']


def _signature(module: nn.Module) -> List[Tuple[str, tuple, torch.dtype]]:
    return [(n, tuple(t.shape), t.dtype) for n, t in
            list(module.named_parameters()) + list(module.named_buffers())]


def check_stackable(modules: Sequence[nn.Module]) -> None:
    """Raise ``ValueError`` unless every module has the same parameter and
    buffer names, shapes and dtypes as the first, and the same class."""
    if len(modules) < 2:
        raise ValueError('stacking needs at least two modules')
    first = _signature(modules[0])
    for m in modules[1:]:
        if type(m) is not type(modules[0]) or _signature(m) != first:
            raise ValueError(
                f'{type(m).__name__} cannot be stacked with '
                f'{type(modules[0]).__name__}: the branches differ in '
                'their parameters (names, shapes or dtypes)')


def stacked_forward(modules: Sequence[nn.Module],
                    inputs: Sequence[torch.Tensor], *args, **kwargs):
    """``[m(x, *args, **kwargs) for m, x in zip(modules, inputs)]`` as one
    vmapped call.

    The modules must be stackable (:func:`check_stackable`) and the inputs
    of one shape. Randomness (dropout, drop path) is drawn independently per
    module (``randomness='different'``), so a training step is the same
    computation as the loop but not the same random numbers.

    Returns:
        The first module's output structure with a leading dimension of
        ``len(modules)`` on every tensor (index it per module).
    """
    from torch.func import functional_call, vmap
    base = modules[0]
    named = [dict(m.named_parameters()) for m in modules]
    params = {k: torch.stack([p[k] for p in named]) for k in named[0]}
    bufs = [dict(m.named_buffers()) for m in modules]
    buffers = {k: torch.stack([b[k] for b in bufs]) for k in bufs[0]}
    x = torch.stack(list(inputs))

    def one(p, b, xi):
        return functional_call(base, (p, b), (xi, ) + args, kwargs)

    return vmap(one, randomness='different')(params, buffers, x)
