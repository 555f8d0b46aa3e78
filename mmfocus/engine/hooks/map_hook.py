# Copyright (c) mmfocus contributors.
"""Dump each sample's manipulation map during validation / test."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmfocus.registry import HOOKS
from mmfocus.utils.io import (WriteFailures, atomic_save_image,
                              imread_checked, sample_name)
from mmfocus.visualization.overlay import overlay_map

__all__ = ['ManipulationMapHook', 'sample_name']


@HOOKS.register_module()
class ManipulationMapHook(Hook):
    """Write every predicted manipulation map under the work dir.

    For each sample of a val/test batch it writes
    ``<work_dir>/<out_dir>/<phase>/raw/<name>.png`` (16-bit PNG, value =
    map * 65535, lossless enough to reload with ``cv2.IMREAD_UNCHANGED``)
    and ``.../overlay/<name>.jpg`` (JET colour map blended on the face).
    Every rank writes its own samples, so multi-GPU tests dump all maps.

    Args:
        out_dir (str): Folder under the work dir. Defaults to ``'maps'``.
        keys (Sequence[str]): DataSample fields to dump. Defaults to
            ``('pred_map',)``; add ``'pred_map_fake'`` for Eq. 9 maps.
        interval (int): Dump every ``interval``-th batch. Defaults to 1.
        max_samples (int, optional): Stop after this many samples per phase
            per rank. Defaults to None (all).
        on_val (bool): Also dump during validation (to ``val_iter<N>``).
            Defaults to False.
        overwrite (bool): Replace maps of an earlier run in the same work
            dir; False raises FileExistsError. Defaults to True.

    A write that fails (a full disk, no permission) is counted, not raised,
    so the metrics of the run are still computed; the first failure is
    logged at once and ``N map writes failed (first: <path>: <cause>)`` at
    the end of the epoch. ``write_failures`` holds the count and the first
    error (``tools/test.py`` ends with an ``error:`` line then).
    """
    priority = 'LOW'

    def __init__(self, out_dir: str = 'maps',
                 keys: Sequence[str] = ('pred_map', ),
                 interval: int = 1, max_samples: Optional[int] = None,
                 on_val: bool = False, overwrite: bool = True) -> None:
        self.out_dir = out_dir
        self.keys = tuple(keys)
        self.interval = interval
        self.max_samples = max_samples
        self.on_val = on_val
        self.overwrite = overwrite
        self._count = 0
        self.write_failures = WriteFailures('map writes')

    def before_test_epoch(self, runner) -> None:
        self._count = 0
        self.write_failures.reset()

    def before_val_epoch(self, runner) -> None:
        self._count = 0
        self.write_failures.reset()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.on_val:
            self._report(runner)

    def _report(self, runner) -> None:
        if self.write_failures.count:
            runner.logger.warning(
                f'ManipulationMapHook: {self.write_failures.summary()}')

    def _write(self, runner, path: str, img: np.ndarray) -> None:
        failures = self.write_failures
        before = failures.count
        failures.attempt(atomic_save_image, path, img,
                         overwrite=self.overwrite)
        if before == 0 and failures.count == 1:
            runner.logger.warning(
                f'ManipulationMapHook: cannot write {failures.first_line()}'
                '; continuing without the maps that fail (the metrics are '
                'still computed)')

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._dump(runner, batch_idx, outputs, 'test')

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        if self.on_val:
            self._dump(runner, batch_idx, outputs, f'val_iter{runner.iter}')

    def _dump(self, runner, batch_idx, outputs, phase: str) -> None:
        if not outputs or batch_idx % self.interval:
            return
        root = osp.join(runner.work_dir, self.out_dir, phase)
        data_root = None
        for sample in outputs:
            if self.max_samples is not None and \
                    self._count >= self.max_samples:
                return
            img_path = sample.metainfo.get('img_path')
            if img_path is None:
                continue
            if data_root is None:
                data_root = _common_root(runner, img_path)
            name = sample_name(img_path, data_root)
            face = None
            for key in self.keys:
                if key not in sample:
                    continue
                m = sample.get(key).detach().float().cpu().numpy()
                raw = np.round(np.clip(m, 0, 1) * 65535).astype(np.uint16)
                sub = '' if key == 'pred_map' else key + '_'
                self._write(runner,
                            osp.join(root, f'{sub}raw', name + '.png'), raw)
                if face is None:
                    face = imread_checked(img_path)
                self._write(runner,
                            osp.join(root, f'{sub}overlay', name + '.jpg'),
                            overlay_map(face, m))
            self._count += 1
        if is_main_process() and batch_idx == 0:
            runner.logger.info(f'ManipulationMapHook: writing maps to {root}')


def _common_root(runner, img_path: str) -> Optional[str]:
    for loader_name in ('test_dataloader', 'val_dataloader'):
        cfg = runner.cfg.get(loader_name) or {}
        root = (cfg.get('dataset') or {}).get('data_root')
        if root and osp.abspath(img_path).startswith(osp.abspath(root)):
            return root
    return None
