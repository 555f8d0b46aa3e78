# Copyright (c) mmfocus contributors.
"""One way to join a process group: NCCL with GPUs (mmengine's
``init_dist``), gloo on CPU (what mmengine does not do: its ``init_dist``
calls ``torch.cuda.set_device``)."""
import os

import torch
import torch.distributed as dist

LAUNCHERS = ('none', 'pytorch', 'slurm')


def init_dist(launcher: str) -> bool:
    """Join the process group of ``launcher`` unless already in one.

    Args:
        launcher (str): ``'none'`` (no-op), ``'pytorch'`` (``torchrun``:
            ``RANK`` / ``WORLD_SIZE`` / ``MASTER_ADDR`` in the environment)
            or ``'slurm'``.

    Returns:
        bool: True if this call initialised the process group.

    Raises:
        ValueError: an unknown launcher, or ``'mpi'`` without a GPU.
    """
    if launcher == 'none' or dist.is_initialized():
        return False
    if torch.cuda.is_available():
        from mmengine.dist import init_dist as mmengine_init_dist
        mmengine_init_dist(launcher, backend='nccl')
    elif launcher == 'pytorch':
        dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                world_size=int(os.environ['WORLD_SIZE']))
    elif launcher == 'slurm':
        from mmengine.dist.utils import _init_dist_slurm
        _init_dist_slurm('gloo')  # sets the env, then init_process_group
    else:
        raise ValueError(f'launcher {launcher!r} is not supported on CPU '
                         f'(one of {", ".join(LAUNCHERS)})')
    return True
