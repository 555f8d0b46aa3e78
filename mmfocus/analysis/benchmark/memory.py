# Copyright (c) mmfocus contributors.
"""Peak memory of one step: :class:`MemoryProbe` (CUDA allocator peak, or
the sampled resident set on CPU with glibc's free heap given back), the
static bytes of a model and :func:`measure_memory` of train/infer steps."""
import gc
import time
from typing import Any, Dict, Optional, Union

import torch
from torch import nn

from .steps import AmpDtype, make_infer_step, make_train_step

__all__ = ['MemoryProbe', 'static_bytes', 'measure_memory']


def _proc_status_kib(key: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


_LIBC: Any = None


def _return_freed_memory_to_os(threshold: int = 1 << 20) -> bool:
    """glibc only: give the free heap back to the OS (``malloc_trim``) and
    serve later allocations >= ``threshold`` bytes by ``mmap`` (returned
    when freed), so that the resident set follows the live tensors; by
    default glibc keeps freed memory for reuse and the resident set hides
    a step's peak. Returns False where this is not possible."""
    global _LIBC
    try:
        if _LIBC is None:
            import ctypes
            libc = ctypes.CDLL('libc.so.6')
            m_trim_threshold, m_mmap_threshold = -1, -3
            if not (libc.mallopt(m_mmap_threshold, threshold) == 1
                    and libc.mallopt(m_trim_threshold, threshold) == 1):
                return False
            _LIBC = libc
        _LIBC.malloc_trim(0)
        return True
    except (OSError, AttributeError):
        return False


class MemoryProbe:
    """Peak memory of one step, above what was allocated before it.

    * CUDA: ``torch.cuda.reset_peak_memory_stats`` then
      ``max_memory_allocated()`` minus ``memory_allocated()`` before the
      step (bytes of tensors).
    * CPU on Linux: the resident set size (``VmRSS``) sampled every
      millisecond by a thread during the step, minus its value before;
      the free heap is given back first and large allocations are made to
      return to the OS when freed (glibc ``malloc_trim`` / ``mallopt``), so
      the samples follow the live tensors. Approximate:
      a peak shorter than a millisecond can be missed. Call it after the
      timings, since ``mmap``-backed allocation is slower.
    * elsewhere: the growth of ``ru_maxrss`` (a lower bound, often 0).

    Args:
        device (str | torch.device): Where the step runs.

    Example:
        >>> probe = MemoryProbe('cpu')
        >>> probe.start(); x = torch.ones(1 << 22); nbytes = probe.stop()
        >>> probe.method in ('rss_sampled', 'ru_maxrss')
        True
    """

    def __init__(self, device: Union[str, torch.device],
                 interval: float = 1e-3) -> None:
        self.device = torch.device(device)
        self.interval = interval
        self._base = 0
        self._peak = 0
        self._thread = None
        self._stop = False
        if self.device.type == 'cuda':
            self.method = 'cuda_max_memory_allocated'
        elif _proc_status_kib('VmRSS') is not None:
            self.method = 'rss_sampled'
        else:
            self.method = 'ru_maxrss'

    @staticmethod
    def _maxrss_bytes() -> int:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _sample(self) -> None:
        while not self._stop:
            self._peak = max(self._peak,
                             (_proc_status_kib('VmRSS') or 0) * 1024)
            time.sleep(self.interval)

    def start(self) -> None:
        """Mark the baseline (and start sampling on CPU)."""
        gc.collect()
        if self.method == 'cuda_max_memory_allocated':
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
        elif self.method == 'rss_sampled':
            import threading
            _return_freed_memory_to_os()
            self._base = self._peak = (_proc_status_kib('VmRSS') or 0) * 1024
            self._stop = False
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        else:
            self._base = self._maxrss_bytes()

    def stop(self) -> int:
        """Bytes above the baseline at the peak since :meth:`start`."""
        if self.method == 'cuda_max_memory_allocated':
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        elif self.method == 'rss_sampled':
            self._stop = True
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            peak = max(self._peak, (_proc_status_kib('VmRSS') or 0) * 1024)
        else:
            peak = self._maxrss_bytes()
        return max(0, int(peak - self._base))


def static_bytes(model: nn.Module, optimizer=None) -> int:
    """Bytes of parameters, buffers and optimizer state tensors."""
    seen, total = set(), 0
    tensors = list(model.parameters()) + list(model.buffers())
    if optimizer is not None:
        for state in optimizer.state.values():
            tensors.extend(v for v in state.values()
                           if isinstance(v, torch.Tensor))
    for t in tensors:
        if t.data_ptr() in seen:
            continue
        seen.add(t.data_ptr())
        total += t.numel() * t.element_size()
    return total


def _mib(n: int) -> float:
    return n / 2**20


def _memory(model, optim_wrapper, step, probe: MemoryProbe,
            train: bool) -> dict:
    model.train(train)
    probe.start()
    step()
    transient = probe.stop()
    static = static_bytes(
        model, optim_wrapper.optimizer if train and optim_wrapper else None)
    return dict(static_mib=_mib(static), step_peak_mib=_mib(transient),
                total_mib=_mib(static + transient))


def measure_memory(models: Dict[str, nn.Module],
                   optim_wrappers: Dict[str, Any],
                   batch: dict,
                   amp_dtype: AmpDtype = None,
                   infer_mode: str = 'tensor',
                   train: bool = True,
                   infer: bool = True) -> dict:
    """Peak memory of one training step and one inference step per model.

    Run it after the timings (and after any warm-up step, so that the
    optimizer state exists): see :class:`MemoryProbe`.

    Returns:
        dict: ``method`` and ``{'train'|'infer': {name: {'static_mib',
        'step_peak_mib', 'total_mib'}}}``; static is parameters, buffers
        and (training) optimizer state, step peak what one step adds.
    """
    device = next(next(iter(models.values())).parameters()).device
    probe = MemoryProbe(device)
    mem: Dict[str, Any] = dict(method=probe.method)
    for phase, training in (('train', True), ('infer', False)):
        if not (train if training else infer):
            continue
        mem[phase] = {}
        for n, m in models.items():
            step = make_train_step(m, optim_wrappers[n], batch, amp_dtype) \
                if training else make_infer_step(m, batch, amp_dtype,
                                                 infer_mode)
            mem[phase][n] = _memory(m, optim_wrappers.get(n), step, probe,
                                    training)
    for m in models.values():
        m.train(True)
    return mem
