# Copyright (c) mmfocus contributors.
"""What the benchmark times: a random batch shaped like the FoCus
``DataLoader``'s and the training / inference steps built on it."""
import contextlib
from typing import Any, Callable, Optional, Tuple

import torch
from torch import nn

__all__ = [
    'AmpDtype', 'build_collate_fn', 'loads_masks', 'make_samples',
    'make_batch', 'make_train_step', 'make_infer_step',
    'compile_forward'
]

AmpDtype = Optional[torch.dtype]


def _pin(obj):
    if isinstance(obj, torch.Tensor):
        return obj.pin_memory()
    if isinstance(obj, dict):
        return {k: _pin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_pin(v) for v in obj)
    return obj  # DataSamples are not pinned by a DataLoader either


def build_collate_fn(loader_cfg) -> Tuple[Callable, str]:
    """A dataloader config's collate function, built as mmengine's Runner
    builds it (``pseudo_collate`` when none is set), and its name."""
    import copy
    import functools

    from mmengine.registry import FUNCTIONS
    cfg = dict(copy.deepcopy(loader_cfg.get('collate_fn') or {}))
    cfg = cfg or dict(type='pseudo_collate')
    kind = cfg.pop('type')
    fn = FUNCTIONS.get(kind) if isinstance(kind, str) else kind
    if fn is None:
        raise KeyError(f'collate_fn type {kind!r} is not registered')
    return functools.partial(fn, **cfg), (kind if isinstance(kind, str)
                                          else getattr(kind, '__name__', ''))


def loads_masks(pipeline) -> bool:
    """Whether a data pipeline loads manipulation masks (then the
    benchmark's samples carry a ``gt_mask``)."""
    return any(isinstance(t, dict) and str(t.get('type', '')).split('.')[-1]
               == 'LoadManipulationMask' for t in pipeline or [])


def make_samples(batch_size: int,
                 shape: Tuple[int, int],
                 with_masks: bool = True,
                 num_classes: int = 2,
                 seed: int = 0) -> list:
    """``batch_size`` random samples as ``PackFaceInputs`` makes them (the
    :class:`mmfocus.datasets.RandomFaceDataset`'s)."""
    from mmfocus.datasets.synthetic import RandomFaceDataset
    data = RandomFaceDataset(batch_size, shape, with_masks, num_classes,
                             seed)
    return [data[i] for i in range(len(data))]


def make_batch(batch_size: int,
               shape: Tuple[int, int],
               collate_fn: Optional[Callable] = None,
               with_masks: bool = True,
               pin_memory: bool = False,
               num_classes: int = 2,
               seed: int = 0) -> dict:
    """A random batch shaped like one from the FoCus ``DataLoader``: the
    :func:`make_samples`, collated by ``collate_fn`` (mmengine's
    ``pseudo_collate``, the Runner's default, when None) and pinned when
    ``pin_memory``, as a ``DataLoader(pin_memory=True)`` does.

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
    samples = make_samples(batch_size, shape, with_masks, num_classes, seed)
    batch = (collate_fn or pseudo_collate)(samples)
    return _pin(batch) if pin_memory else batch


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
