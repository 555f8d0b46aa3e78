# Copyright (c) mmfocus contributors.
"""One device choice for every tool: the local GPU of this process when
CUDA is present (``LOCAL_RANK`` under ``torchrun``), else the CPU."""
import os
from typing import Optional

import torch


def default_device(requested: Optional[str] = None) -> str:
    """The device a tool runs on.

    Args:
        requested (str, optional): ``None`` (CUDA when present, else CPU),
            ``'cuda'`` (this process's GPU: ``cuda:<LOCAL_RANK>``),
            ``'cuda:N'`` or ``'cpu'``.

    Returns:
        str: e.g. ``'cuda:1'`` or ``'cpu'``.

    Raises:
        ValueError: not a CPU / CUDA device, or CUDA asked for where there
            is none.
    """
    local = int(os.environ.get('LOCAL_RANK', 0))
    if requested is None:
        return f'cuda:{local}' if torch.cuda.is_available() else 'cpu'
    try:
        device = torch.device(requested)
    except RuntimeError as e:
        raise ValueError(f'device {requested!r}: {e}') from None
    if device.type not in ('cpu', 'cuda'):
        raise ValueError(f'device must be cpu or cuda[:N], got {requested!r}')
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError(f'device {requested}: CUDA is not available '
                             'here')
        return f'cuda:{local if device.index is None else device.index}'
    return 'cpu'
