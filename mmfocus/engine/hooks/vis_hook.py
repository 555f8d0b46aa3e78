# Copyright (c) mmfocus contributors.
"""ROC curve, score histograms and a map gallery of a test (or val) run."""
import heapq
import itertools
import os.path as osp
from typing import Dict, List, Optional

import cv2
import numpy as np
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook

from mmfocus.registry import HOOKS
from mmfocus.utils.io import WriteFailures, atomic_save_image, imread_checked
from mmfocus.visualization.overlay import overlay_map
from mmfocus.visualization.report import (figure_to_rgb, gallery_figure,
                                          group_names, histogram_figure,
                                          roc_figure)

GROUPS = ('confident fakes', 'confident reals', 'errors')


def _scalar(x) -> float:
    if hasattr(x, 'detach'):
        x = x.detach().float().cpu().numpy()
    return float(np.asarray(x).reshape(-1)[0])


@HOOKS.register_module()
class ForgeryVisualizationHook(Hook):
    """Figures of a whole test (or validation) run, written under the work
    dir and sent to the runner's visualizer.

    While the run goes it keeps each sample's fake score, label, method and
    video id, and the maps of the ``topk`` most confident fakes, most
    confident reals and most confident errors (bounded heaps, maps shrunk
    to at most ``map_size`` pixels). At the end (main process, after
    gathering every rank) it writes to ``<work_dir>/<out_dir>/<phase>/``:

    * ``roc.png``: ROC curve (scikit-learn) at frame level, plus video level
      when every sample has a video id and a video has several frames.
    * ``hist_class.png`` and ``hist_method.png``: fake-score histograms per
      class and per manipulation method.
    * ``gallery.png``: one row per group above, each face with its map
      overlay (``mmfocus.visualization.overlay_map``), score and label.

    The same images go to ``runner.visualizer.add_image`` as
    ``<phase>_roc`` etc., so every configured ``vis_backends`` entry
    (``LocalVisBackend``, ``TensorboardVisBackend``, ...) receives them.
    Per-sample maps of every face are the job of
    :class:`ManipulationMapHook`; this hook draws only the summary.

    Args:
        out_dir (str): Folder under the work dir. Defaults to ``'vis'``.
        topk (int): Faces per gallery row. Defaults to 8.
        map_key (str): DataSample field with the map. Defaults to
            ``'pred_map'``.
        fake_index (int): Index of the fake class in ``pred_score``.
            Defaults to 1.
        thr (float): Decision threshold for errors (``score > thr`` is
            fake, as ``ForgeryMetric``). Defaults to 0.5.
        map_size (int): Longest side of a kept map. Defaults to 64.
        on_val (bool): Also draw after each validation (to
            ``val_iter<N>``). Defaults to False.
        to_visualizer (bool): Send the figures to the runner's visualizer.
            Defaults to True.
        overwrite (bool): Replace figures of an earlier run in the same work
            dir; False raises FileExistsError. Defaults to True (as
            :class:`ManipulationMapHook`).

    A figure that cannot be written (a full disk) is counted, not raised:
    ``N figure writes failed (first: <path>: <cause>)`` is logged and
    ``write_failures`` holds the count and the first error.
    """
    priority = 'LOW'

    def __init__(self, out_dir: str = 'vis', topk: int = 8,
                 map_key: str = 'pred_map', fake_index: int = 1,
                 thr: float = 0.5, map_size: int = 64, on_val: bool = False,
                 to_visualizer: bool = True, overwrite: bool = True) -> None:
        if topk < 0:
            raise ValueError(f'topk must be >= 0, got {topk}')
        self.out_dir = out_dir
        self.topk = int(topk)
        self.map_key = map_key
        self.fake_index = int(fake_index)
        self.thr = float(thr)
        self.map_size = int(map_size)
        self.on_val = on_val
        self.to_visualizer = to_visualizer
        self.overwrite = overwrite
        self.write_failures = WriteFailures('figure writes')
        self._reset()

    def _reset(self) -> None:
        self._records: List[dict] = []
        self._heaps: Dict[str, list] = {g: [] for g in GROUPS}
        self._tick = itertools.count()

    # ------------------------------------------------------------ collect
    def before_test_epoch(self, runner) -> None:
        self._reset()

    def before_val_epoch(self, runner) -> None:
        self._reset()

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._collect(outputs)

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        if self.on_val:
            self._collect(outputs)

    def _collect(self, outputs) -> None:
        for sample in outputs or ():
            if 'pred_score' not in sample or 'gt_label' not in sample:
                continue
            score = np.asarray(sample.pred_score.detach().float().cpu()
                               if hasattr(sample.pred_score, 'detach')
                               else sample.pred_score).reshape(-1)
            score = float(score[0] if score.size == 1 else
                          score[self.fake_index])
            label = int(_scalar(sample.gt_label))
            rec = dict(score=score, label=label,
                       img_path=sample.metainfo.get('img_path'),
                       method=sample.metainfo.get('method'),
                       mask_path=sample.metainfo.get('mask_path'),
                       video_id=sample.metainfo.get('video_id'))
            self._records.append(rec)
            if self.topk:
                self._offer(rec, sample)

    def _offer(self, rec: dict, sample) -> None:
        s, y = rec['score'], rec['label']
        wrong = (s > self.thr) != bool(y)
        keys = [('confident fakes' if y else 'confident reals',
                 s if y else 1 - s)]
        if wrong:
            keys.append(('errors', 1 - s if y else s))
        m = None
        for group, key in keys:
            heap = self._heaps[group]
            if len(heap) >= self.topk and key <= heap[0][0]:
                continue
            if m is None:
                m = self._small_map(sample)
            entry = (key, next(self._tick), dict(rec, map=m))
            if len(heap) < self.topk:
                heapq.heappush(heap, entry)
            else:
                heapq.heapreplace(heap, entry)

    def _small_map(self, sample) -> Optional[np.ndarray]:
        if self.map_key not in sample:
            return None
        m = sample.get(self.map_key)
        if hasattr(m, 'metainfo_keys'):  # a PixelData
            m = m.data
        m = m.detach().float().cpu().numpy() if hasattr(m, 'detach') \
            else np.asarray(m, dtype=np.float32)
        m = np.squeeze(m)
        if m.ndim != 2:
            return None
        h, w = m.shape
        s = self.map_size / max(h, w)
        if s < 1:
            m = cv2.resize(m, (max(1, round(w * s)), max(1, round(h * s))),
                           interpolation=cv2.INTER_AREA)
        return m.astype(np.float16)

    # ------------------------------------------------------------ draw
    def after_test_epoch(self, runner, metrics=None) -> None:
        self._draw(runner, 'test', step=0)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.on_val:
            self._draw(runner, f'val_iter{runner.iter}', step=runner.iter)

    def _gather(self):
        records, heaps = [], {g: [] for g in GROUPS}
        for recs, hps in all_gather_object((self._records, self._heaps)):
            records.extend(recs)
            for g in GROUPS:
                heaps[g].extend(hps[g])
        # a distributed sampler may repeat samples to even out the ranks
        seen, unique = set(), []
        for r in records:
            key = r['img_path']
            if key is not None and key in seen:
                continue
            seen.add(key)
            unique.append(r)
        for g in GROUPS:
            best, names = [], set()
            for key, _, rec in sorted(heaps[g], key=lambda e: (-e[0], e[1])):
                if rec['img_path'] is not None and rec['img_path'] in names:
                    continue
                names.add(rec['img_path'])
                best.append(rec)
            heaps[g] = best[:self.topk]
        return unique, heaps

    def _draw(self, runner, phase: str, step: int) -> None:
        records, heaps = self._gather()
        self._reset()
        if not is_main_process():
            return
        if not records:
            runner.logger.warning('ForgeryVisualizationHook: no labelled '
                                  f'predictions in {phase}; nothing drawn')
            return
        scores = [r['score'] for r in records]
        labels = [r['label'] for r in records]
        figures = {
            'roc': roc_figure(scores, labels,
                              [r['video_id'] for r in records],
                              title=f'ROC ({phase}, n={len(records)})'),
            'hist_class': histogram_figure(
                scores, ['fake' if y else 'real' for y in labels],
                title=f'fake score per class ({phase})'),
            'hist_method': histogram_figure(
                scores, group_names(labels, [r['method'] for r in records]),
                title=f'fake score per method ({phase})'),
        }
        if self.topk:
            figures['gallery'] = gallery_figure(
                {g: [self._tile(r) for r in heaps[g]] for g in GROUPS})
        root = osp.join(runner.work_dir, self.out_dir, phase)
        vis = getattr(runner, 'visualizer', None)
        failures = self.write_failures
        failures.reset()
        for name, fig in figures.items():
            rgb = figure_to_rgb(fig)
            failures.attempt(atomic_save_image, osp.join(root, name + '.png'),
                             cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                             overwrite=self.overwrite)
            if self.to_visualizer and vis is not None:
                failures.attempt(lambda path, img: vis.add_image(
                    path, img, step=step), f'{phase}_{name}', rgb)
        runner.logger.info(f'ForgeryVisualizationHook: {len(figures)} '
                           f'figures of {len(records)} samples in {root}')
        if failures.count:
            runner.logger.warning(
                f'ForgeryVisualizationHook: {failures.summary()}')

    def _tile(self, rec: dict) -> dict:
        gt = 'fake' if rec['label'] else 'real'
        caption = f"{rec['score']:.3f} (gt {gt})"
        if rec.get('method') and rec['method'] != gt:
            caption += f"\n{rec['method']}"
        face = None
        if rec['img_path'] is not None:
            try:
                face = imread_checked(rec['img_path'])
            except (FileNotFoundError, ValueError):
                face = None
        if face is None:  # no image to show: the map alone, or grey
            m = rec['map']
            shape = m.shape if m is not None else (64, 64)
            face = np.full(shape + (3, ), 128, np.uint8)
        tiles = [face]
        if rec.get('mask_path') and rec['label'] == 1:
            # face | true mask | map: does the map light up the blend?
            try:
                mask = imread_checked(rec['mask_path'], cv2.IMREAD_GRAYSCALE)
                tiles.append(cv2.cvtColor(cv2.resize(
                    mask, face.shape[1::-1]), cv2.COLOR_GRAY2BGR))
            except (FileNotFoundError, ValueError):
                pass
        if rec['map'] is not None:
            tiles.append(overlay_map(face, rec['map'].astype(np.float32)))
        strip = np.concatenate(tiles, axis=1)
        return dict(image=cv2.cvtColor(strip, cv2.COLOR_BGR2RGB),
                    caption=caption)
