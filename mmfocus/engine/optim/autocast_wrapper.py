# Copyright (c) mmfocus contributors.
"""Mixed precision without loss scaling (bf16).

mmengine's ``AmpOptimWrapper`` always builds a ``GradScaler``; its ``step``
reads the found-inf flag back to the host (one device sync per iteration),
and bf16 does not need loss scaling: it has fp32's exponent range. This
wrapper only adds an autocast context around the forward pass and keeps
``OptimWrapper``'s plain backward and step.
"""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmfocus.registry import OPTIM_WRAPPERS

_DTYPES = {'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16,
           'float16': torch.float16, 'fp16': torch.float16}


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast``.

    Args:
        dtype (str): ``'bfloat16'`` (default) or ``'float16'``. float16
            without loss scaling can underflow gradients: use mmengine's
            ``AmpOptimWrapper`` for it.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).

    Example:
        >>> optim_wrapper = dict(type='AutocastOptimWrapper',
        ...                      dtype='bfloat16',
        ...                      optimizer=dict(type='Adam', lr=1e-4))
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(**kwargs)
        if dtype not in _DTYPES:
            raise ValueError(f'AutocastOptimWrapper dtype must be one of '
                             f'{sorted(_DTYPES)}, got {dtype!r}')
        self.cast_dtype = _DTYPES[dtype]

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        try:
            device_type = next(model.parameters()).device.type
        except StopIteration:
            device_type = 'cpu'
        with super().optim_context(model), \
                torch.autocast(device_type=device_type,
                               dtype=self.cast_dtype):
            yield
