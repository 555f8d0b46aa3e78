# Copyright (c) mmfocus contributors.
"""mmengine's runtime-info hook without a host sync every training iteration."""
from collections import OrderedDict
from typing import Dict, List, Optional

import torch
from mmengine.hooks import LoggerHook, RuntimeInfoHook
from mmengine.utils import apply_to

from mmfocus.registry import HOOKS


@HOOKS.register_module()
class DeferredRuntimeInfoHook(RuntimeInfoHook):
    """:class:`mmengine.hooks.RuntimeInfoHook` that reads the training log
    variables back to the host once per ``interval`` iterations.

    mmengine's hook calls ``MessageHub.update_scalar`` on every log variable
    (loss terms, accuracy) after every iteration, and that converts each
    tensor with ``.item()``: on a GPU one blocking device-to-host copy per
    variable per iteration, so the host cannot queue the next step while the
    device still runs this one. This hook keeps the (detached) tensors of
    each iteration and, every ``interval`` iterations, copies all of them in
    one transfer and feeds them to the message hub in their original order.
    The message hub then holds exactly the values mmengine's hook would
    have put there (each one converted as ``.item()`` converts it), only
    later: the logger, the ``scalars.json`` of the visualizer and a saved
    checkpoint see the same numbers.

    The hook also flushes before validation, before a checkpoint is saved
    (and refreshes the checkpoint's ``message_hub`` entry, which the runner
    filled in before calling the hooks), at the end of an epoch and after
    training. Code that reads ``train/<key>`` scalars from the message hub
    between two flushes sees them up to ``interval - 1`` iterations late;
    nothing in mmfocus or in mmengine's shipped hooks does.

    Args:
        interval (int, optional): Iterations between flushes. Defaults to
            the ``LoggerHook``'s interval (so the logger always finds its
            window complete), or 1 when there is no logger hook.
    """
    priority = 'VERY_HIGH'

    def __init__(self, interval: Optional[int] = None) -> None:
        if interval is not None and (not isinstance(interval, int)
                                     or interval < 1):
            raise ValueError(f'DeferredRuntimeInfoHook interval must be a '
                             f'positive int or None, got {interval!r}')
        self.interval = interval
        self._pending: List[Dict] = []
        self._flush_every = interval or 1

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._pending = []
        interval = self.interval
        if interval is None:
            loggers = [h for h in runner.hooks if isinstance(h, LoggerHook)]
            interval = loggers[0].interval if loggers else 1
        self._flush_every = max(1, int(interval))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if outputs is not None:
            self._pending.append(OrderedDict(
                (k, v.detach() if isinstance(v, torch.Tensor) else v)
                for k, v in outputs.items()))
        n = self._flush_every
        if (self.every_n_train_iters(runner, n)
                or self.every_n_inner_iters(batch_idx, n)
                or self.end_of_epoch(runner.train_dataloader, batch_idx)
                or self.is_last_train_iter(runner)):
            self.flush(runner)

    def flush(self, runner) -> None:
        """Put every pending log variable into the message hub (one
        device-to-host copy per device)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        host = _to_host([v for out in pending for v in out.values()])
        it = iter(host)
        for out in pending:
            for key in out:
                runner.message_hub.update_scalar(f'train/{key}', next(it))

    def before_val(self, runner) -> None:
        self.flush(runner)
        super().before_val(runner)

    def after_train_epoch(self, runner) -> None:
        self.flush(runner)

    def after_train(self, runner) -> None:
        self.flush(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self._pending:
            return
        self.flush(runner)
        if 'message_hub' in checkpoint:  # the runner read it before us
            checkpoint['message_hub'] = apply_to(
                runner.message_hub.state_dict(),
                lambda x: hasattr(x, 'cpu'), lambda x: x.cpu())


def _to_host(values: list) -> list:
    """``values`` as the Python numbers ``MessageHub.update_scalar`` would
    make of them, with all one-element tensors of a device read back in
    one copy; other values are passed through unchanged."""
    out = list(values)
    groups: Dict[torch.device, List[int]] = {}
    for i, v in enumerate(values):
        if isinstance(v, torch.Tensor):
            if v.numel() != 1:
                raise ValueError(
                    f'DeferredRuntimeInfoHook: a log variable must have one '
                    f'element, got shape {tuple(v.shape)}')
            groups.setdefault(v.device, []).append(i)
    for idx in groups.values():
        # float64 holds every float16/bfloat16/float32 value and every
        # integer below 2**53 exactly, so the numbers equal .item()'s
        stacked = torch.stack([values[i].reshape(()).to(torch.float64)
                               for i in idx]).cpu().tolist()
        for i, x in zip(idx, stacked):
            v = values[i]
            if v.dtype == torch.bool:
                out[i] = bool(x)
            elif not (v.is_floating_point() or v.is_complex()):
                out[i] = int(x)
            else:
                out[i] = x
    return out
