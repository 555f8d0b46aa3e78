# Copyright (c) mmfocus contributors.
"""DataLoader workers that exit when their parent process dies.

A training process killed with ``kill -9`` runs no clean-up, so its
DataLoader workers are orphaned. PyTorch's own watchdog in the worker loop
notices the dead parent, but the worker then hangs at exit, flushing
prefetched batches into a queue nobody reads (2 workers of ~535 MB each
were still alive minutes later). :class:`ExitWithParent` wraps a loader's
``worker_init_fn`` (mmengine's seeding one included, which still runs) and
makes each worker exit as soon as its parent is gone:

* on Linux with ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (the kernel kills the
  worker when the parent dies; the parent pid is checked right after, in
  case it died before the signal was armed);
* elsewhere (or if ``prctl`` is unavailable) with a daemon thread that
  polls the parent pid and calls ``os._exit``.

Note: Linux sends the parent-death signal when the *thread* that started
the worker exits. mmengine's loops (and a plain ``for batch in loader``)
start workers from the thread that iterates, normally the main thread; a
loader first iterated in a short-lived thread should use
``ExitWithParent(fn, use_prctl=False)``.
"""
import ctypes
import os
import signal
import sys
import threading
import time
from typing import Callable, Optional

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# How this process was armed: 'prctl', 'watch' or None (introspection and
# tests).
_ARMED: Optional[str] = None


def armed_mode() -> Optional[str]:
    """``'prctl'`` or ``'watch'`` once :func:`exit_with_parent` ran in this
    process, else None."""
    return _ARMED


def _set_pdeathsig(sig: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # no libc symbol table / no prctl
        return False


def _pid_alive(pid: int) -> Optional[bool]:
    """Whether ``pid`` exists (None if this platform cannot tell safely)."""
    if os.name == 'nt':  # os.kill(pid, 0) would terminate it on Windows
        try:
            import psutil
        except ImportError:
            return None
        return psutil.pid_exists(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _watch(parent_pid: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.name == 'nt':
            alive = _pid_alive(parent_pid)
        else:  # an orphan is re-parented: its parent pid changes
            alive = os.getppid() == parent_pid
        if alive is False:
            os._exit(1)  # no clean-up: it is what hangs


def exit_with_parent(parent_pid: Optional[int] = None, use_prctl: bool = True,
                     interval: float = 1.0) -> Optional[str]:
    """Make this process exit when its parent dies.

    Args:
        parent_pid (int, optional): The parent expected to be alive (the
            process that built the loader). If this process' parent is
            another one (a forkserver, or a loader built in one process and
            iterated in another) while ``parent_pid`` still lives, the
            actual parent is watched. If ``parent_pid`` is already dead,
            this process exits at once. Defaults to None (the actual
            parent).
        use_prctl (bool): Use Linux' parent-death signal where available.
            Defaults to True.
        interval (float): Seconds between checks of the watch thread.
            Defaults to 1.0.

    Returns:
        str | None: ``'prctl'``, ``'watch'`` or None (a platform that
        cannot tell whether the parent lives).
    """
    global _ARMED
    ppid = os.getppid()
    if parent_pid is not None and parent_pid != ppid:
        if _pid_alive(parent_pid) is False:
            os._exit(1)  # the parent died before this worker started
    if use_prctl and sys.platform.startswith('linux') and \
            _set_pdeathsig(signal.SIGKILL):
        if os.getppid() != ppid:  # died before the signal was armed
            os._exit(1)
        _ARMED = 'prctl'
        return _ARMED
    if os.name == 'nt' and _pid_alive(ppid) is None:
        return None
    threading.Thread(target=_watch, args=(ppid, interval), daemon=True,
                     name='mmfocus-parent-watch').start()
    _ARMED = 'watch'
    return _ARMED


class ExitWithParent:
    """A DataLoader ``worker_init_fn``: :func:`exit_with_parent`, then the
    wrapped ``fn(worker_id)`` (e.g. mmengine's seeding ``worker_init_fn``).

    Picklable (for the ``spawn`` start method) when ``fn`` is.

    Args:
        fn (callable, optional): The loader's own ``worker_init_fn``.
            Defaults to None.
        use_prctl (bool): See :func:`exit_with_parent`. Defaults to True.
        interval (float): See :func:`exit_with_parent`. Defaults to 1.0.

    Example:
        >>> loader = DataLoader(dataset, num_workers=2,
        ...                     worker_init_fn=ExitWithParent(seed_fn))
    """

    def __init__(self, fn: Optional[Callable[[int], None]] = None,
                 use_prctl: bool = True, interval: float = 1.0) -> None:
        self.fn = fn
        self.use_prctl = use_prctl
        self.interval = interval
        self.parent_pid = os.getpid()  # the process building the loader

    def __call__(self, worker_id: int) -> None:
        exit_with_parent(self.parent_pid, self.use_prctl, self.interval)
        if self.fn is not None:
            self.fn(worker_id)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(fn={self.fn!r}, '
                f'use_prctl={self.use_prctl})')


def exit_workers_with_parent(loader, use_prctl: bool = True):
    """Wrap ``loader.worker_init_fn`` in :class:`ExitWithParent` (once) when
    the loader has workers; return the loader.

    Args:
        loader (torch.utils.data.DataLoader): A built loader, not iterated
            yet (its workers take the init function when they start).
        use_prctl (bool): See :func:`exit_with_parent`. Defaults to True.
    """
    if getattr(loader, 'num_workers', 0) > 0 and \
            not isinstance(loader.worker_init_fn, ExitWithParent):
        loader.worker_init_fn = ExitWithParent(loader.worker_init_fn,
                                               use_prctl=use_prctl)
    return loader
