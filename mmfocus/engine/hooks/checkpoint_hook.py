# Copyright (c) mmfocus contributors.
"""mmengine's CheckpointHook with atomic writes (full disks, kills)."""
import contextlib
import os
import os.path as osp
import re
from typing import Iterator, List, Tuple

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmfocus.registry import HOOKS
from mmfocus.utils.io import atomic_write, named_os_error

# ``.<name>.<pid>.tmp``: a checkpoint being written (hidden, so that no glob
# for ``iter_*.pth`` ever sees it)
_TMP = re.compile(r'^\..+\.\d+\.tmp$')
_KEPT = ('; not saved: the previous checkpoints and last_checkpoint are '
         'unchanged')


class _DeferredRemovals:
    """A file backend whose ``remove``/``rmtree`` wait for :meth:`flush`."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.pending: List[Tuple[str, str]] = []

    def remove(self, path) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path) -> None:
        self.pending.append(('rmtree', path))

    def flush(self) -> None:
        for op, path in self.pending:
            getattr(self._backend, op)(path)
        self.pending = []

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` that never leaves a truncated
    checkpoint and never loses the previous one.

    Same arguments and behaviour as ``CheckpointHook`` (``interval``,
    ``max_keep_ckpts``, ``save_best``, ``out_dir``...), except:

    * each checkpoint (``iter_N.pth``, ``best_*.pth``) is written to a
      hidden temporary file in the same folder, synced, then renamed into
      place (``os.replace``), so ``iter_N.pth`` is either complete or
      absent;
    * checkpoints that ``max_keep_ckpts`` (or a new best) makes outdated
      are removed only *after* the new one is complete;
    * ``last_checkpoint`` is replaced atomically, after the checkpoint.

    A failed save (a full disk: ``ENOSPC``) removes its temporary file and
    raises ``OSError`` naming the checkpoint, with the earlier checkpoints
    and ``last_checkpoint`` untouched, so ``--resume`` continues from the
    last complete one. Temporary files left by a killed run are removed
    before training. Non-local backends (``backend_args`` of a remote
    store) are written as by ``CheckpointHook``.

    Example:
        >>> default_hooks = dict(checkpoint=dict(
        ...     type='AtomicCheckpointHook', by_epoch=False, interval=2000,
        ...     max_keep_ckpts=3))
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and self._is_local():
            out_dir = str(self.out_dir)
            for name in (os.listdir(out_dir) if osp.isdir(out_dir) else ()):
                if _TMP.match(name) and '.pth.' in name:
                    os.remove(osp.join(out_dir, name))
                    runner.logger.info('AtomicCheckpointHook: removed the '
                                       f'unfinished {name} of an earlier run')

    def _is_local(self) -> bool:
        backend = self.file_backend
        if isinstance(backend, _DeferredRemovals):
            backend = backend._backend
        backend = getattr(backend, 'client', backend)  # a FileClient
        return isinstance(backend, LocalBackend)

    def _save_atomic(self, runner, out_dir, filename, *args, **kwargs):
        """``runner.save_checkpoint(out_dir, filename, ...)`` through a
        temporary file beside the target and ``os.replace``."""
        save = type(runner).save_checkpoint.__get__(runner)
        if not self._is_local():
            return save(out_dir, filename, *args, **kwargs)
        final = osp.join(str(out_dir), filename)
        tmp_name = f'.{filename}.{os.getpid()}.tmp'
        tmp = osp.join(str(out_dir), tmp_name)
        try:
            save(out_dir, tmp_name, *args, **kwargs)  # rank 0 only
            if not is_main_process():
                return
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except BaseException as e:
            if is_main_process() and osp.exists(tmp):
                os.remove(tmp)
            if isinstance(e, OSError) and e.errno is not None:
                raise named_os_error(e, final, _KEPT) from e
            raise
        _fsync_dir(str(out_dir))

    @contextlib.contextmanager
    def _atomic_runner_saves(self, runner) -> Iterator[None]:
        # mmengine's _save_best_checkpoint calls runner.save_checkpoint;
        # route it through _save_atomic for the duration of the call
        runner.save_checkpoint = lambda *a, **k: self._save_atomic(
            runner, *a, **k)
        try:
            yield
        finally:
            del runner.save_checkpoint

    def _save_checkpoint_with_step(self, runner, step, meta):
        # mmengine's order, except: the outdated checkpoint is removed
        # after the new one is complete, and the writes are atomic. The
        # bookkeeping goes into the checkpoint, so it is updated first and
        # restored if the save fails.
        kept = list(getattr(self, 'keep_ckpt_ids', ()))
        last = self.last_ckpt
        try:
            self._save_step(runner, step, meta)
        except BaseException:
            if self.max_keep_ckpts > 0:
                self.keep_ckpt_ids.clear()
                self.keep_ckpt_ids.extend(kept)
                runner.message_hub.update_info('keep_ckpt_ids', kept)
            self.last_ckpt = last
            if last is not None:
                runner.message_hub.update_info('last_ckpt', last)
            raise

    def _save_step(self, runner, step, meta):
        outdated = None
        if self.max_keep_ckpts > 0 and not (
                len(self.keep_ckpt_ids) > 0
                and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save_atomic(
            runner, self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        save_file = osp.join(runner.work_dir, 'last_checkpoint')
        try:
            atomic_write(save_file, str(self.last_ckpt).encode())
        except OSError as e:
            raise named_os_error(
                e, save_file, f'; {self.last_ckpt} is complete, resume '
                'from it with --resume FILE') from e
        if outdated is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed: a folder
                self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        backend = self.file_backend
        deferred = _DeferredRemovals(backend)
        self.file_backend = deferred  # the previous best goes after
        try:
            with self._atomic_runner_saves(runner):
                super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        deferred.flush()


def _fsync_dir(path: str) -> None:
    """Make a rename in ``path`` durable (POSIX; best effort)."""
    if os.name != 'posix':
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
