# Copyright (c) mmfocus contributors.
"""Speed of a model against a reference, measured in one process and run.

FoCus is two ViT-S backbones plus small necks, so its cost should be almost
exactly the cost of two plain backbones. This module measures both in the
same process, on the same device, batch, precision and optimizer, with the
timed steps **interleaved** (model, reference, model, reference, ...) after
a warm-up, so that clock boosts, thermal drift and other jobs on a shared
machine hit both alike; the result is a ratio with its spread.

What is timed:

* **training step**: the config's data preprocessor (H2D copy, Sobel/DCT/SRM
  on the device), ``forward(mode='loss')``, ``parse_losses``, backward and
  the optimizer step (the config's optimizer, e.g. Adam), exactly the work
  of mmengine's ``BaseModel.train_step``;
* **inference**: the preprocessor and ``forward(mode='tensor')`` (logits and
  manipulation maps) under ``no_grad``; ``mode='predict'`` on request;
* the **data preprocessor** and the **modality filters** alone on the device;
* peak memory of one step of each (after the timings);
* the **data pipeline** alone: the config's train pipeline (decode and
  transforms) through a ``DataLoader`` with N workers.

Timings use ``time.perf_counter`` with ``torch.cuda.synchronize()`` before
and after each timed call on a GPU. Peak memory is
``torch.cuda.max_memory_allocated`` on a GPU and the sampled resident set
size on CPU (:class:`MemoryProbe`).

Example:
    >>> from mmfocus.analysis.benchmark import interleaved_timings
    >>> t = interleaved_timings({'a': lambda: None, 'b': lambda: None},
    ...                         warmup=1, repeats=3)
    >>> sorted(t), len(t['a'])
    (['a', 'b'], 3)
"""
import contextlib
import copy
import datetime
import gc
import math
import os
import platform
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from mmfocus.models.data_preprocessors import FoCusDataPreprocessor
from mmfocus.datasets.paired import flatten_samples
from mmfocus.registry import DATASETS

__all__ = [
    'TRAIN_TARGET', 'INFER_TARGET', 'GPU_TRAIN_AIM', 'GPU_INFER_AIM',
    'VIT_ALIASES', 'parse_reference', 'build_reference_backbone',
    'TwoBackboneReference', 'build_reference', 'make_batch',
    'interleaved_timings', 'summarize_times', 'paired_ratio',
    'MemoryProbe', 'static_bytes', 'measure_memory', 'make_train_step',
    'make_infer_step',
    'compile_forward', 'benchmark_models', 'benchmark_preprocessor',
    'benchmark_data_pipeline', 'workers_needed', 'environment_info',
    'format_report'
]

#: The issue's targets, as ratios of step times (model / reference).
TRAIN_TARGET = 1.15
INFER_TARGET = 1.10
#: The issue's GPU aims on one H100 at 224x224 with bf16 (images/s).
GPU_TRAIN_AIM = 3000.
GPU_INFER_AIM = 10000.

#: Keys of the ``vit:key=value,...`` reference spec and their timm names.
_VIT_KEYS = dict(dim='embed_dim', depth='depth', heads='num_heads',
                 patch='patch_size', mlp='mlp_ratio')
#: DeiT-S, the defaults of a ``vit:`` spec.
_VIT_DEFAULTS = dict(embed_dim=384, depth=12, num_heads=6, patch_size=16,
                     mlp_ratio=4.)
#: Short reference names; ``vit-test`` is the timm twin of ``FoCusViT``'s
#: ``arch='test'`` with ``patch_size=8`` (the tiny tool-test config).
VIT_ALIASES = {
    'vit-test': 'vit:dim=64,depth=2,heads=2,patch=8,mlp=2',
    'vit-demo': 'vit:dim=192,depth=6,heads=3,patch=8,mlp=4',
}

AmpDtype = Optional[torch.dtype]


# --------------------------------------------------------------------- #
# The reference
# --------------------------------------------------------------------- #
def parse_reference(spec: Optional[str]) -> Optional[Tuple[str, Any]]:
    """Parse a ``--reference`` value.

    Args:
        spec (str, optional): ``'none'`` (no reference), a timm model name
            (``'deit_small_patch16_224'``), an alias of :data:`VIT_ALIASES`,
            or ``'vit:dim=D,depth=L,heads=H,patch=P,mlp=R'`` (any key left
            out takes the DeiT-S value) for a timm ``VisionTransformer``.

    Returns:
        tuple | None: ``('timm', name)``, ``('vit', kwargs)`` or None.

    Raises:
        ValueError: a malformed ``vit:`` spec.
        KeyError: an unknown timm model name.
    """
    if spec is None or spec.strip().lower() in ('', 'none'):
        return None
    spec = VIT_ALIASES.get(spec.strip(), spec.strip())
    if spec.startswith('vit:'):
        kwargs = dict(_VIT_DEFAULTS)
        body = spec[4:]
        for item in filter(None, body.split(',')):
            if '=' not in item:
                raise ValueError(f'reference spec {spec!r}: expected key=value'
                                 f', got {item!r}')
            key, value = (s.strip() for s in item.split('=', 1))
            if key not in _VIT_KEYS:
                raise ValueError(f'reference spec {spec!r}: unknown key '
                                 f'{key!r}; use {sorted(_VIT_KEYS)}')
            try:
                kwargs[_VIT_KEYS[key]] = float(value) if key == 'mlp' \
                    else int(value)
            except ValueError:
                raise ValueError(f'reference spec {spec!r}: {key}={value!r} '
                                 'is not a number') from None
        if min(kwargs['embed_dim'], kwargs['depth'], kwargs['num_heads'],
               kwargs['patch_size']) < 1 or kwargs['mlp_ratio'] <= 0:
            raise ValueError(f'reference spec {spec!r}: sizes must be '
                             'positive')
        if kwargs['embed_dim'] % kwargs['num_heads']:
            raise ValueError(f'reference spec {spec!r}: dim must be divisible'
                             ' by heads')
        return 'vit', kwargs
    import timm
    if not timm.is_model(spec):
        raise KeyError(f'unknown timm model {spec!r} for --reference (or '
                       "give 'none', 'vit:dim=..,depth=..,heads=..,patch=..'"
                       f' or one of {sorted(VIT_ALIASES)})')
    return 'timm', spec


def build_reference_backbone(spec: Tuple[str, Any],
                             img_size: Tuple[int, int],
                             num_classes: int = 2,
                             drop_path_rate: float = 0.) -> nn.Module:
    """One reference classifier with random weights (nothing downloaded).

    Args:
        spec (tuple): Output of :func:`parse_reference`.
        img_size (tuple[int, int]): Input ``(H, W)``.
        num_classes (int): Classes of the head. Defaults to 2 (real/fake).
        drop_path_rate (float): Stochastic depth, matched to the model's
            backbone. Defaults to 0.

    Returns:
        nn.Module: A timm model mapping ``(B, 3, H, W)`` to logits.
    """
    kind, value = spec
    if kind == 'vit':
        from timm.models.vision_transformer import VisionTransformer
        return VisionTransformer(img_size=tuple(img_size),
                                 num_classes=num_classes,
                                 drop_path_rate=drop_path_rate,
                                 qkv_bias=True, **value)
    import timm
    kwargs = dict(pretrained=False, num_classes=num_classes,
                  drop_path_rate=drop_path_rate)
    try:
        return timm.create_model(value, img_size=tuple(img_size), **kwargs)
    except TypeError:  # not a model with a fixed input size
        return timm.create_model(value, **kwargs)


class TwoBackboneReference(BaseModel):
    """``n`` independent classifiers on the same RGB batch.

    The cost floor of a multi-branch model: FoCus minus its second modality
    filter, CARP necks, CAR heads and CL neck. Its data preprocessor is the
    RGB part of ``FoCusDataPreprocessor``, so both models go through the
    same cast, stack and normalisation; the loss is the sum of the
    branches' cross-entropies (``loss_0``, ``loss_1``, ...).

    Args:
        backbones (Sequence[nn.Module]): Classifiers ``(B, 3, H, W) ->
            (B, num_classes)``, e.g. two timm DeiT-S.
        mean, std (Sequence[float]): RGB normalisation. Default to ImageNet.
        to_rgb (bool): Input images are BGR. Defaults to True.

    Example:
        >>> from timm.models.vision_transformer import VisionTransformer
        >>> vit = lambda: VisionTransformer(img_size=32, patch_size=8,
        ...     embed_dim=64, depth=1, num_heads=2, num_classes=2)
        >>> ref = TwoBackboneReference([vit(), vit()])
        >>> len(ref(torch.rand(2, 3, 32, 32)))
        2
    """

    def __init__(self,
                 backbones: Sequence[nn.Module],
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True) -> None:
        super().__init__(data_preprocessor=FoCusDataPreprocessor(
            modalities=('rgb', ), mean=mean, std=std, to_rgb=to_rgb))
        if not backbones:
            raise ValueError('TwoBackboneReference needs at least one '
                             'backbone')
        self.backbones = nn.ModuleList(backbones)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        x = inputs['rgb'] if isinstance(inputs, dict) else inputs
        logits = [m(x) for m in self.backbones]
        if mode == 'loss':
            if not data_samples or 'gt_label' not in data_samples[0]:
                raise ValueError('the reference loss needs data samples with '
                                 'gt_label')
            labels = torch.cat([ds.gt_label for ds in data_samples
                                ]).to(x.device)
            return {f'loss_{i}': F.cross_entropy(z.float(), labels)
                    for i, z in enumerate(logits)}
        if mode in ('tensor', 'predict'):
            return logits
        raise RuntimeError(f'Invalid mode "{mode}".')


def build_reference(spec: Optional[Tuple[str, Any]],
                    img_size: Tuple[int, int],
                    num_branches: int = 2,
                    num_classes: int = 2,
                    drop_path_rate: float = 0.,
                    preprocessor: Optional[nn.Module] = None
                    ) -> Optional[TwoBackboneReference]:
    """Build the reference model: ``num_branches`` backbones of ``spec``.

    Args:
        spec (tuple, optional): Output of :func:`parse_reference`; None
            returns None.
        img_size (tuple[int, int]): Input ``(H, W)``.
        num_branches (int): Number of backbones. Defaults to 2.
        num_classes (int): Defaults to 2.
        drop_path_rate (float): Defaults to 0.
        preprocessor (nn.Module, optional): The model's data preprocessor;
            its ``mean``, ``std`` and ``to_rgb`` are copied. Defaults to
            ImageNet statistics and BGR input.

    Returns:
        TwoBackboneReference | None: The reference.
    """
    if spec is None:
        return None
    kw = {}
    if preprocessor is not None:
        for key in ('mean', 'std'):
            value = getattr(preprocessor, key, None)
            if isinstance(value, torch.Tensor) and value.numel() == 3:
                kw[key] = tuple(float(v) for v in value.flatten())
        if hasattr(preprocessor, 'to_rgb'):
            kw['to_rgb'] = bool(preprocessor.to_rgb)
        elif hasattr(preprocessor, '_channel_conversion'):
            kw['to_rgb'] = bool(preprocessor._channel_conversion)
    backbones = [build_reference_backbone(spec, img_size, num_classes,
                                          drop_path_rate)
                 for _ in range(num_branches)]
    return TwoBackboneReference(backbones, **kw)


# --------------------------------------------------------------------- #
# Inputs
# --------------------------------------------------------------------- #
def _pin(obj):
    if isinstance(obj, torch.Tensor):
        return obj.pin_memory()
    if isinstance(obj, dict):
        return {k: _pin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_pin(v) for v in obj)
    return obj  # DataSamples are not pinned by a DataLoader either


def make_batch(batch_size: int,
               shape: Tuple[int, int],
               collate_fn: Optional[Callable] = None,
               with_masks: bool = True,
               pin_memory: bool = False,
               num_classes: int = 2,
               seed: int = 0) -> dict:
    """A random batch shaped like one from the FoCus ``DataLoader``.

    Each sample is what ``PackFaceInputs`` makes: a ``(3, H, W)`` uint8
    image and a ``DataSample`` with ``gt_label`` (alternating classes) and,
    when ``with_masks``, an all-zero ``(H, W)`` float ``gt_mask``. The
    samples are collated by ``collate_fn`` (mmengine's ``pseudo_collate``,
    the Runner's default, when None) and pinned when ``pin_memory``, as a
    ``DataLoader(pin_memory=True)`` does. The global RNG is not used.

    Args:
        batch_size (int): Images.
        shape (tuple[int, int]): ``(H, W)``.
        collate_fn (callable, optional): Defaults to ``pseudo_collate``.
        with_masks (bool): Add ``gt_mask``. Defaults to True.
        pin_memory (bool): Pin the tensors. Defaults to False.
        num_classes (int): Defaults to 2.
        seed (int): Defaults to 0.

    Returns:
        dict: ``inputs`` and ``data_samples``.
    """
    from mmengine.dataset import pseudo_collate
    from mmpretrain.structures import DataSample
    h, w = shape
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(batch_size):
        img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8,
                            generator=gen)
        ds = DataSample().set_gt_label(i % num_classes)
        if with_masks:
            ds.set_field(torch.zeros(h, w), 'gt_mask', dtype=torch.Tensor)
        samples.append(dict(inputs=img, data_samples=ds))
    batch = (collate_fn or pseudo_collate)(samples)
    return _pin(batch) if pin_memory else batch


# --------------------------------------------------------------------- #
# Timing and statistics
# --------------------------------------------------------------------- #
def _sync_fn(device: Union[str, torch.device]) -> Callable[[], None]:
    device = torch.device(device)
    if device.type == 'cuda':
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def interleaved_timings(fns: Dict[str, Callable[[], Any]],
                        warmup: int = 1,
                        repeats: int = 5,
                        iters: int = 1,
                        sync: Optional[Callable[[], None]] = None
                        ) -> Dict[str, List[float]]:
    """Time several callables in turn: A, B, A, B, ... after a warm-up.

    Each repeat times ``iters`` consecutive calls of one callable with
    ``time.perf_counter``, ``sync()`` called before starting and before
    stopping the clock (``torch.cuda.synchronize`` on a GPU), and records
    the mean seconds per call.

    Args:
        fns (dict[str, callable]): Name -> callable, timed in this order.
        warmup (int): Untimed rounds (each callable ``iters`` times).
            Defaults to 1.
        repeats (int): Timed rounds. Defaults to 5.
        iters (int): Calls per timed sample. Defaults to 1.
        sync (callable, optional): Device barrier. Defaults to a no-op.

    Returns:
        dict[str, list[float]]: Seconds per call, one value per repeat.
    """
    if repeats < 1 or iters < 1 or warmup < 0:
        raise ValueError(f'need repeats >= 1, iters >= 1, warmup >= 0; got '
                         f'{repeats}, {iters}, {warmup}')
    sync = sync or (lambda: None)
    for _ in range(warmup):
        for fn in fns.values():
            for _ in range(iters):
                fn()
    sync()
    gc.collect()
    times: Dict[str, List[float]] = {name: [] for name in fns}
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in fns.items():
                sync()
                t0 = time.perf_counter()
                for _ in range(iters):
                    fn()
                sync()
                times[name].append((time.perf_counter() - t0) / iters)
    finally:
        if was_enabled:
            gc.enable()
    return times


def summarize_times(times: Sequence[float],
                    images: Optional[int] = None) -> dict:
    """Median, quartiles (numpy's linear interpolation) and range.

    Args:
        times (Sequence[float]): Seconds per step.
        images (int, optional): Images per step; adds ``img_s`` (images
            per second at the median) and its interquartile range.

    Returns:
        dict: ``median_s``, ``q1_s``, ``q3_s``, ``min_s``, ``max_s``, ``n``,
        ``times_s`` and optionally ``img_s``, ``img_s_q1``, ``img_s_q3``.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.size == 0:
        raise ValueError('no timings to summarise')
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    out = dict(median_s=float(med), q1_s=float(q1), q3_s=float(q3),
               min_s=float(t.min()), max_s=float(t.max()), n=int(t.size),
               times_s=[float(x) for x in t])
    if images is not None:
        out['img_s'] = images / float(med)
        out['img_s_q1'] = images / float(q3)  # slower quartile
        out['img_s_q3'] = images / float(q1)
    return out


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> dict:
    """Ratio ``a / b`` of two interleaved timing series.

    The headline ``ratio`` is the median of the per-repeat ratios
    ``a_i / b_i``: each pair ran back to back, so a slow moment of a shared
    machine or a clock change hits both sides of a pair and cancels out.

    Args:
        a (Sequence[float]): Model seconds per step, one per repeat.
        b (Sequence[float]): Reference seconds, the same repeats.

    Returns:
        dict: ``ratio`` (median of ``a_i / b_i``), ``q1``, ``q3``, ``min``,
        ``max`` of those ratios, and ``ratio_of_medians`` =
        median(a) / median(b).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f'paired timings differ in length: {a.size} vs '
                         f'{b.size}')
    r = a / b
    q1, med, q3 = np.percentile(r, [25, 50, 75])
    return dict(ratio=float(med), q1=float(q1), q3=float(q3),
                min=float(r.min()), max=float(r.max()),
                ratio_of_medians=float(np.median(a) / np.median(b)))


# --------------------------------------------------------------------- #
# Memory
# --------------------------------------------------------------------- #
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


# --------------------------------------------------------------------- #
# Steps
# --------------------------------------------------------------------- #
def _autocast(device: torch.device, dtype: AmpDtype):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_train_step(model: nn.Module, optim_wrapper, batch: dict,
                    amp_dtype: AmpDtype = None) -> Callable[[], None]:
    """One training step: what ``BaseModel.train_step`` does.

    Preprocess (H2D copy and modality filters on the model's device),
    ``forward(mode='loss')`` under autocast when ``amp_dtype``,
    ``parse_losses``, then ``optim_wrapper.update_params`` (backward,
    gradient clipping if configured, optimizer step, zero_grad; with an
    ``AmpOptimWrapper`` also the loss scaling). Nothing is copied back to
    the host.

    Args:
        model (BaseModel): An mmengine model.
        optim_wrapper (OptimWrapper): Its optimizer wrapper.
        batch (dict): A collated batch (:func:`make_batch`).
        amp_dtype (torch.dtype, optional): Autocast dtype. Defaults to None.

    Returns:
        callable: The step.
    """
    device = next(model.parameters()).device

    def step() -> None:
        with optim_wrapper.optim_context(model), _autocast(device,
                                                           amp_dtype):
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optim_wrapper.update_params(loss)

    return step


def make_infer_step(model: nn.Module, batch: dict, amp_dtype: AmpDtype = None,
                    mode: str = 'tensor') -> Callable[[], Any]:
    """One inference step under ``no_grad``: preprocess, then forward.

    Args:
        model (BaseModel): An mmengine model.
        batch (dict): A collated batch.
        amp_dtype (torch.dtype, optional): Autocast dtype. Defaults to None.
        mode (str): ``'tensor'`` (FoCus: logits and manipulation maps) or
            ``'predict'`` (DataSamples with scores and upsampled maps).
            Defaults to 'tensor'.

    Returns:
        callable: The step, returning the model's output.
    """
    if mode not in ('tensor', 'predict'):
        raise ValueError(f"inference mode must be 'tensor' or 'predict', "
                         f'got {mode!r}')
    device = next(model.parameters()).device

    def step():
        with torch.no_grad(), _autocast(device, amp_dtype):
            data = model.data_preprocessor(batch, False)
            return model(**data, mode=mode)

    return step


def compile_forward(model: nn.Module, backend: str = 'inductor') -> None:
    """Replace ``model.forward`` by ``torch.compile(model.forward)``.

    The data preprocessor stays eager; ``train_step``-style calls
    (``model(**data, mode=...)``) then run the compiled forward.
    """
    model.forward = torch.compile(model.forward, backend=backend)


# --------------------------------------------------------------------- #
# Benchmarks
# --------------------------------------------------------------------- #
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


def benchmark_models(models: Dict[str, nn.Module],
                     optim_wrappers: Dict[str, Any],
                     batch: dict,
                     batch_size: int,
                     amp_dtype: AmpDtype = None,
                     warmup: int = 1,
                     repeats: int = 5,
                     iters: int = 1,
                     infer_mode: str = 'tensor',
                     train: bool = True,
                     infer: bool = True,
                     memory: bool = True) -> dict:
    """Train-step and inference timings of models, interleaved, and memory.

    Args:
        models (dict[str, BaseModel]): ``{'model': m, 'reference': r}``
            (the reference is optional); all on the same device.
        optim_wrappers (dict[str, OptimWrapper]): One per model.
        batch (dict): A collated batch on the host.
        batch_size (int): Images per batch.
        amp_dtype (torch.dtype, optional): Autocast dtype. Defaults to None.
        warmup, repeats, iters (int): See :func:`interleaved_timings`.
        infer_mode (str): See :func:`make_infer_step`.
        train, infer, memory (bool): Parts to run. Default to True.

    Returns:
        dict: ``train`` and ``infer``, each ``{name: summary}`` (see
        :func:`summarize_times`) plus ``ratio`` (:func:`paired_ratio` of
        ``model`` over ``reference``, when both exist); ``memory``
        (:func:`measure_memory`) when ``memory``
        ``{'method', 'train': {name: MiB dict}, 'infer': ...}``.
    """
    device = next(models['model'].parameters()).device
    sync = _sync_fn(device)
    out: Dict[str, Any] = {}
    names = list(models)
    train_steps = {n: make_train_step(models[n], optim_wrappers[n], batch,
                                      amp_dtype) for n in names}
    infer_steps = {n: make_infer_step(models[n], batch, amp_dtype,
                                      infer_mode) for n in names}
    phases = []
    if train:
        phases.append(('train', train_steps, True))
    if infer:
        phases.append(('infer', infer_steps, False))
    for phase, steps, training in phases:
        for m in models.values():
            m.train(training)
        times = interleaved_timings(steps, warmup, repeats, iters, sync)
        res = {n: summarize_times(times[n], batch_size) for n in names}
        if 'reference' in times:
            res['ratio'] = paired_ratio(times['model'], times['reference'])
        out[phase] = res
    for m in models.values():
        m.train(True)
    if memory:
        out['memory'] = measure_memory(models, optim_wrappers, batch,
                                       amp_dtype, infer_mode, train, infer)
    return out


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


def benchmark_preprocessor(preprocessor: nn.Module,
                           batch: dict,
                           batch_size: int,
                           amp_dtype: AmpDtype = None,
                           warmup: int = 2,
                           repeats: int = 10) -> dict:
    """The data preprocessor, and its modality filters alone, on its device.

    Args:
        preprocessor (nn.Module): E.g. ``FoCusDataPreprocessor``.
        batch (dict): A collated host batch (:func:`make_batch`).
        batch_size (int): Images per batch.
        amp_dtype (torch.dtype, optional): Autocast dtype. Defaults to None.
        warmup (int): Defaults to 2.
        repeats (int): Defaults to 10.

    Returns:
        dict: ``preprocessor`` (H2D copy, stack, normalise, filters) and
        ``filters`` (each ``ModalityFilter`` on a device batch already in
        float) summaries with ``img_s``; ``filters`` is None when the
        preprocessor has none.
    """
    device = getattr(preprocessor, '_device', None)  # mmengine's
    if device is None:
        device = next(iter(preprocessor.buffers()), torch.empty(0)).device
    device = torch.device(device)
    sync = _sync_fn(device)

    def full():
        with torch.no_grad(), _autocast(device, amp_dtype):
            return preprocessor(batch, True)

    fns = {'preprocessor': full}
    filters = getattr(preprocessor, 'filters', None)
    names: List[str] = []
    if isinstance(filters, nn.ModuleDict) and len(filters):
        inputs = batch['inputs']
        x = torch.stack(list(inputs)) if isinstance(inputs, (list, tuple)) \
            else inputs
        x = x.to(device).float()
        names = list(filters)

        def only_filters():
            with torch.no_grad(), _autocast(device, amp_dtype):
                return [filters[n](x) for n in names]

        fns['filters'] = only_filters
    times = interleaved_timings(fns, warmup, repeats, 1, sync)
    res = dict(device=str(device),
               preprocessor=summarize_times(times['preprocessor'],
                                            batch_size),
               filters=None, filter_names=names)
    if 'filters' in times:
        res['filters'] = summarize_times(times['filters'], batch_size)
    return res


def _batch_len(batch) -> int:
    inputs = batch['inputs'] if isinstance(batch, dict) else batch
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0])
    return len(inputs)


def _flat_pseudo_collate(batch):
    """mmengine's ``pseudo_collate`` over the images of list-valued items
    (the ``[real, fake]`` pairs of ``paired_self_blend``)."""
    from mmengine.dataset import pseudo_collate

    return pseudo_collate(flatten_samples(batch))


def _worker_init(opencv_threads: Optional[int]):

    def init(_):
        torch.set_num_threads(1)
        if opencv_threads is not None:
            try:
                import cv2
                cv2.setNumThreads(opencv_threads)
            except ImportError:
                pass

    return init


def benchmark_data_pipeline(dataset_cfg: dict,
                            batch_size: int,
                            workers: int,
                            samples: int,
                            collate_fn: Optional[Callable] = None,
                            pin_memory: bool = False,
                            opencv_threads: Optional[int] = 0,
                            seed: int = 0) -> dict:
    """The dataset's pipeline (decode + transforms) through a DataLoader.

    ``samples`` indices (a seeded shuffle of the dataset, repeated if it is
    smaller) are loaded in batches by ``workers`` worker processes (0: the
    main process). The rate is taken after the first batch arrives, so the
    worker start-up is excluded (it is reported as ``startup_s``).

    Args:
        dataset_cfg (dict): The config's ``train_dataloader.dataset``.
        batch_size (int): Images per batch.
        workers (int): DataLoader workers.
        samples (int): Images to load.
        collate_fn (callable, optional): Defaults to ``pseudo_collate``
            over the images of each item (a ``[real, fake]`` pair counts
            as two images).
        pin_memory (bool): Defaults to False.
        opencv_threads (int, optional): ``cv2.setNumThreads`` in each
            worker (the config's ``env_cfg.mp_cfg.opencv_num_threads``).
            Defaults to 0.
        seed (int): Defaults to 0.

    Returns:
        dict: ``status`` ``'measured'`` with ``img_s``,
        ``img_s_per_worker``, ``startup_s``, ``images``, ``dataset_size``,
        ``ann_file``; or ``'skipped'`` with ``reason`` (the annotation file
        is missing).
    """
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader

    if samples < 1:
        return dict(status='skipped', reason='--data-samples 0')
    if workers < 0:
        raise ValueError(f'workers must be >= 0, got {workers}')
    try:
        dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
    except FileNotFoundError as e:
        return dict(status='skipped', reason=str(e))
    n = len(dataset)
    order = np.random.default_rng(seed).permutation(n)
    indices = [int(order[i % n]) for i in range(samples)]
    loader = DataLoader(dataset, batch_size=batch_size, sampler=indices,
                        num_workers=workers,
                        collate_fn=collate_fn or _flat_pseudo_collate,
                        pin_memory=pin_memory,
                        worker_init_fn=_worker_init(opencv_threads)
                        if workers else None)
    t0 = time.perf_counter()
    it = iter(loader)
    first = _batch_len(next(it))
    t1 = time.perf_counter()
    rest = 0
    for batch in it:
        rest += _batch_len(batch)
    t2 = time.perf_counter()
    del it
    if rest:
        img_s, note = rest / (t2 - t1), 'after the first batch'
    else:
        img_s, note = first / (t1 - t0), 'one batch only: start-up included'
    return dict(status='measured', img_s=img_s,
                img_s_per_worker=img_s / max(workers, 1), workers=workers,
                images=first + rest, batch_size=batch_size,
                startup_s=t1 - t0, rate_note=note, dataset_size=n,
                ann_file=getattr(dataset, 'ann_file', None))


def workers_needed(img_s: Optional[float],
                   per_worker: Optional[float]) -> Optional[int]:
    """Workers whose combined rate covers ``img_s`` (ceil, at least 1)."""
    if not img_s or not per_worker or per_worker <= 0:
        return None
    return max(1, math.ceil(img_s / per_worker - 1e-9))


# --------------------------------------------------------------------- #
# Environment and report
# --------------------------------------------------------------------- #
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

    import mmfocus
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
        mmengine=mmengine.__version__, mmfocus=mmfocus.__version__,
        float32_matmul_precision=torch.get_float32_matmul_precision())
    if device.type == 'cuda':
        idx = device.index if device.index is not None else \
            torch.cuda.current_device()
        info.update(gpu=torch.cuda.get_device_name(idx),
                    cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    cudnn_benchmark=torch.backends.cudnn.benchmark)
    return info


def _fmt_s(s: dict) -> str:
    return f'{s["median_s"]:.4g} ({s["q1_s"]:.4g}-{s["q3_s"]:.4g})'


def _fmt_ratio(r: Optional[dict], target: float) -> Tuple[str, str]:
    if not r:
        return '-', '-'
    text = (f'{r["ratio"]:.3f}x ({r["q1"]:.3f}-{r["q3"]:.3f}; '
            f'medians {r["ratio_of_medians"]:.3f}x)')
    verdict = 'met' if r['ratio'] <= target else 'NOT met'
    return text, f'<= {target:.2f}x {verdict}'


def format_report(result: dict) -> str:
    """A readable table of a :func:`benchmark_models` result plus context.

    Args:
        result (dict): The tool's result (``env``, ``setting``, ``models``,
            ``preprocessor``, ``data``, ``workers_needed``).

    Returns:
        str: Several lines.
    """
    env, st = result['env'], result['setting']
    models = result.get('models', {})
    has_ref = result.get('reference') is not None
    dev = env.get('gpu') or env['cpu']
    lines = [
        f'config     {result["config"]}',
        f'reference  {result["reference_desc"]}',
        f'device     {env["device"]}: {dev} ({env["cpus"]} CPUs visible, '
        f'{env["torch_threads"]} torch threads)',
        f'versions   torch {env["torch"]}, timm {env["timm"]}, mmengine '
        f'{env["mmengine"]}, mmfocus {env["mmfocus"]}; {env["date"]}',
        f'setting    batch {st["batch_size"]}, {st["shape"][0]}x'
        f'{st["shape"][1]}, amp {st["amp"]}, '
        f'{"compiled (" + st["compile"] + ")" if st["compile"] else "eager"}'
        f', warm-up {st["warmup"]}, {st["repeats"]} repeats x '
        f'{st["iters"]} step(s), interleaved model/reference',
        f'params     model {result["params"]["model"]:,}' +
        (f', reference {result["params"]["reference"]:,}' if has_ref else ''),
        '',
    ]
    w = 30
    head = (f'{"":24s}{"model":>{w}s}{"reference":>{w}s}  '
            f'{"ratio (paired IQR; of medians)":<40s}target')
    lines.append(head)
    rows = [('train', 'train step [s]', TRAIN_TARGET),
            ('infer', f'inference ({st["infer_mode"]}) [s]', INFER_TARGET)]
    for key, label, target in rows:
        if key not in models:
            continue
        m = models[key]
        ref = m.get('reference')
        ratio, verdict = _fmt_ratio(m.get('ratio'), target)
        lines.append(f'{label:24s}{_fmt_s(m["model"]):>{w}s}'
                     f'{(_fmt_s(ref) if ref else "-"):>{w}s}  {ratio:<40s}'
                     f'{verdict}')
        lines.append(f'{"  images/s":24s}{m["model"]["img_s"]:>{w}.4g}'
                     f'{(format(ref["img_s"], ".4g") if ref else "-"):>{w}s}')
    mem = models.get('memory')
    if mem:
        for key, label in (('train', 'peak mem train [MiB]'),
                           ('infer', 'peak mem infer [MiB]')):
            if key not in mem:
                continue
            vals = [mem[key].get(n) for n in ('model', 'reference')]
            cells = [f'{v["total_mib"]:.1f} ({v["static_mib"]:.1f} + '
                     f'{v["step_peak_mib"]:.1f})' if v else '-' for v in vals]
            lines.append(f'{label:24s}{cells[0]:>{w}s}{cells[1]:>{w}s}')
        lines.append(f'  (static params/buffers/optimizer state + step peak; '
                     f'{mem["method"]})')
    pre = result.get('preprocessor')
    if pre:
        p = pre['preprocessor']
        txt = (f'data preprocessor on {pre["device"]}: '
               f'{p["img_s"]:.4g} img/s')
        if pre.get('filters'):
            names = ', '.join(pre['filter_names'])
            txt += (f'; modality filters alone ({names}): '
                    f'{pre["filters"]["img_s"]:.4g} img/s')
        lines += ['', txt]
    data = result.get('data')
    if data:
        if data['status'] == 'measured':
            lines.append(
                f'data pipeline ({data["workers"]} workers, {data["images"]} '
                f'images of {data["ann_file"]}): {data["img_s"]:.4g} img/s = '
                f'{data["img_s_per_worker"]:.4g} img/s per worker '
                f'({data["rate_note"]})')
            wn = result.get('workers_needed', {})
            lines.append(
                f'workers needed: {wn.get("measured_train")} for the measured'
                f' training throughput, {wn.get("gpu_train_aim")} for the '
                f'{GPU_TRAIN_AIM:.0f} img/s GPU aim')
        else:
            lines.append(f'data pipeline: skipped ({data["reason"]})')
    return '\n'.join(lines)
