# Copyright (c) mmfocus contributors.
"""Where a benchmark ran: device, CPU, library versions and the date."""
import datetime
import os
import platform
from typing import Union

import torch

from mmfocus.version import __version__ as mmfocus_version

__all__ = ['environment_info']


def _cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_info(device: Union[str, torch.device]) -> dict:
    """Device, library versions, CPU count and the date (UTC)."""
    import mmengine
    import timm

    device = torch.device(device)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    info = dict(
        date=datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%d %H:%M UTC'),
        device=str(device), cpu=_cpu_name(), cpus=cpus,
        torch_threads=torch.get_num_threads(),
        python=platform.python_version(),
        torch=torch.__version__, timm=timm.__version__,
        mmengine=mmengine.__version__, mmfocus=mmfocus_version,
        float32_matmul_precision=torch.get_float32_matmul_precision())
    if device.type == 'cuda':
        idx = device.index if device.index is not None else \
            torch.cuda.current_device()
        info.update(gpu=torch.cuda.get_device_name(idx),
                    cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    cudnn_benchmark=torch.backends.cudnn.benchmark)
    return info
