# Copyright (c) mmfocus contributors.
"""The real training loop against the bare training step, on one built
runner: what the loop adds (hooks, logging syncs, data fetching, the
loop's own bookkeeping) in seconds per iteration.

``tools/analysis/benchmark_loop.py`` builds the runners (one per hook
variant and repeat) from a config; this module only takes a runner object,
so that it stays below ``engine`` and ``apis``.
"""
import time
from collections import defaultdict
from typing import Callable, Dict, List, Optional

import numpy as np
from mmengine.hooks import Hook

from .steps import make_train_step
from .timing import paired_ratio, summarize_times

__all__ = ['LoopClock', 'measure_loop', 'summarize_loop',
           'format_loop_report']

#: the per-iteration hook stages the clock attributes to each hook
TIMED_STAGES = ('before_train_iter', 'after_train_iter')


class LoopClock(Hook):
    """Times iterations ``warmup + 1 .. warmup + iters`` of a training run
    (device synchronised at both ends) and the host time spent in each
    hook's per-iteration stages in between.

    Register it on a runner and call :meth:`wrap` before ``runner.train()``.
    """
    priority = 'LOWEST'

    def __init__(self, warmup: int, iters: int,
                 sync: Optional[Callable[[], None]] = None) -> None:
        if warmup < 1 or iters < 1:
            raise ValueError(f'LoopClock needs warmup >= 1 and iters >= 1, '
                             f'got {warmup}, {iters}')
        self.warmup, self.iters = warmup, iters
        self.sync = sync or (lambda: None)
        self.t0 = self.t1 = None
        self.active = False
        self.hook_s: Dict[str, float] = defaultdict(float)

    def wrap(self, runner) -> None:
        """Replace ``runner.call_hook`` by one that times each hook's
        per-iteration stages while the clock runs."""
        call_hook = runner.call_hook

        def timed(fn_name: str, **kwargs) -> None:
            if not (self.active and fn_name in TIMED_STAGES):
                return call_hook(fn_name, **kwargs)
            for hook in runner.hooks:
                if hook is self or not hasattr(hook, fn_name):
                    continue
                t = time.perf_counter()
                getattr(hook, fn_name)(runner, **kwargs)
                self.hook_s[type(hook).__name__] += time.perf_counter() - t
            if hasattr(self, fn_name):
                getattr(self, fn_name)(runner, **kwargs)

        runner.call_hook = timed

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        done = runner.iter + 1  # runner.iter is this iteration's index
        if done == self.warmup:
            self.sync()
            self.t0 = time.perf_counter()
            self.active = True
        elif done == self.warmup + self.iters:
            self.sync()
            self.t1 = time.perf_counter()
            self.active = False

    @property
    def seconds_per_iter(self) -> float:
        if self.t0 is None or self.t1 is None:
            raise RuntimeError('the timed iterations did not all run')
        return (self.t1 - self.t0) / self.iters


def measure_loop(runner, batch: dict, warmup: int, iters: int,
                 sync: Optional[Callable[[], None]] = None) -> dict:
    """Train ``runner`` for its ``max_iters`` (``warmup + iters``), timing
    the last ``iters``; then time ``iters`` bare steps
    (:func:`make_train_step`: preprocess, forward, losses, backward,
    optimizer) of the same model and optimizer wrapper on ``batch``, back
    to back with the loop.

    Returns:
        dict: ``loop_s`` and ``step_s`` (seconds per iteration), ``hooks_s``
        (host seconds per iteration in each hook's per-iteration stages)
        and ``data_s`` (the ``IterTimerHook``'s ``data_time`` over the timed
        iterations, when it ran).
    """
    from mmengine.model import is_model_wrapper
    clock = LoopClock(warmup, iters, sync)
    runner.register_hook(clock)
    clock.wrap(runner)
    runner.train()
    loop_s = clock.seconds_per_iter
    hist = runner.message_hub.log_scalars.get('train/data_time')
    data_s = None
    if hist is not None and len(hist.data[0]) >= iters:
        data_s = float(np.mean(hist.data[0][-iters:]))
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    model.train()
    step = make_train_step(model, runner.optim_wrapper, batch)
    sync = sync or (lambda: None)
    step()  # the step's own warm-up: the loop ran it without this batch
    sync()
    t = time.perf_counter()
    for _ in range(iters):
        step()
    sync()
    step_s = (time.perf_counter() - t) / iters
    return dict(loop_s=loop_s, step_s=step_s, data_s=data_s,
                hooks_s={k: v / iters for k, v in sorted(clock.hook_s.items())})


def summarize_loop(runs: Dict[str, List[dict]], batch_size: int) -> dict:
    """Per variant: loop and step times over the repeats, the paired ratio
    step / loop (the share of the step's throughput the loop reaches), and
    the median host time per hook."""
    out = {}
    for name, rs in runs.items():
        loop = [r['loop_s'] for r in rs]
        step = [r['step_s'] for r in rs]
        hooks = sorted({h for r in rs for h in r['hooks_s']})
        data = [r['data_s'] for r in rs if r['data_s'] is not None]
        out[name] = dict(
            loop=summarize_times(loop, batch_size),
            step=summarize_times(step, batch_size),
            loop_share_of_step=paired_ratio(step, loop),
            hooks_s={h: float(np.median([r['hooks_s'].get(h, 0.)
                                         for r in rs])) for h in hooks},
            data_s=float(np.median(data)) if data else None)
    names = list(runs)
    if len(names) == 2:
        a, b = names
        out['_paired_loops'] = dict(
            a=a, b=b, ratio=paired_ratio([r['loop_s'] for r in runs[a]],
                                         [r['loop_s'] for r in runs[b]]))
    return out


def format_loop_report(result: dict) -> str:
    """A plain-text table of :func:`summarize_loop`'s result."""
    s = result['setting']
    device = result['env'].get('gpu') or result['env']['cpu']
    lines = [f"{result['config']} on {device}, "
             f"batch {s['batch_size']}, amp {s['amp']}, {s['iters']} timed "
             f"iterations after {s['warmup']}, {s['repeats']} repeats",
             f"{'variant':<24}{'loop img/s':>12}{'step img/s':>12}"
             f"{'share':>8}  (IQR)   share = loop img/s / step img/s"]
    for name, v in result['variants'].items():
        if name.startswith('_'):
            continue
        r = v['loop_share_of_step']
        lines.append(f"{name:<24}{v['loop']['img_s']:>12.1f}"
                     f"{v['step']['img_s']:>12.1f}{r['ratio']:>8.3f}  "
                     f"({r['q1']:.3f}-{r['q3']:.3f})")
        hooks = ', '.join(f'{h} {1e3 * t:.2f}' for h, t in v['hooks_s'].items()
                          if t >= 5e-5)
        lines.append(f"  host ms/iter in hooks: {hooks or '-'}"
                     + (f"; data_time {1e3 * v['data_s']:.2f} ms"
                        if v['data_s'] is not None else ''))
    p = result['variants'].get('_paired_loops')
    if p:
        r = p['ratio']
        lines.append(f"loop time {p['a']} / {p['b']}: {r['ratio']:.3f} "
                     f"(IQR {r['q1']:.3f}-{r['q3']:.3f})")
    target = s.get('target')
    if target:
        lines.append(f'target: the loop reaches >= {target:.0%} of the '
                     'step throughput')
    return '\n'.join(lines)
