# Copyright (c) mmfocus contributors.
"""Frame- and video-level real/fake detection metrics."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmfocus.registry import METRICS
from .. import functional as Fn


def _to_numpy(x: Any) -> np.ndarray:
    """Tensor / PixelData-dict / list / scalar -> NumPy array."""
    if isinstance(x, dict) and 'data' in x:  # BaseDataElement.to_dict()
        x = x['data']
    if hasattr(x, 'data') and hasattr(x, 'metainfo_keys'):  # PixelData etc.
        x = x.data
    if hasattr(x, 'detach'):
        x = x.detach().cpu().float().numpy()
    return np.asarray(x)


def _sample_name(sample: dict) -> str:
    return str(sample.get('img_path', '<sample without img_path>'))


def fake_score_of(sample: dict, fake_index: int = 1) -> float:
    """Fake probability of one predicted sample dict.

    Args:
        sample (dict): ``DataSample.to_dict()`` with ``pred_score``.
        fake_index (int): Index of the fake class in ``pred_score``.
            Defaults to 1.

    Returns:
        float: The fake score.
    """
    if 'pred_score' not in sample:
        raise KeyError(f'data sample {_sample_name(sample)} has no '
                       f"'pred_score'; did the model run in predict mode?")
    score = _to_numpy(sample['pred_score']).reshape(-1)
    if score.size == 1:  # a single sigmoid-style fake probability
        return float(score[0])
    if fake_index >= score.size:
        raise ValueError(f'pred_score of {_sample_name(sample)} has '
                         f'{score.size} entries, fake_index={fake_index}')
    return float(score[fake_index])


def binary_label_of(sample: dict) -> int:
    """Ground-truth label (0 real, 1 fake) of one sample dict."""
    if 'gt_label' not in sample:
        raise KeyError(f"data sample {_sample_name(sample)} has no 'gt_label'")
    label = _to_numpy(sample['gt_label']).reshape(-1)
    if label.size != 1 or int(label[0]) not in (0, 1):
        raise ValueError(f'gt_label of {_sample_name(sample)} must be 0 '
                         f'(real) or 1 (fake), got {label.tolist()}')
    return int(label[0])


@METRICS.register_module()
class ForgeryMetric(BaseMetric):
    """Binary real/fake detection metrics at frame and video level.

    Scores are the fake probability ``pred_score[fake_index]``. Reported keys
    (prefixed ``'<prefix>/'`` by mmengine):

    * ``acc``: accuracy with ``score > thr``.
    * ``auc``: ROC AUC (ties count 1/2, equal to scikit-learn's).
    * ``eer``: equal error rate.
    * ``ap``: average precision (scikit-learn's definition).
    * ``video_auc`` / ``video_acc``: the same on the mean frame score per
      video, only when every sample has a ``video_id`` and at least one
      video has more than one frame.
    * ``auc_<branch>``: the AUC of one branch head alone, when every sample
      carries ``pred_score_<branch>`` (FoCus: ``auc_rgb``, ``auc_sobel``).

    All values are **percentages** (raw fraction times 100, not rounded),
    as face-forgery papers report them (e.g. "AUC 99.15"). With a single
    class present AUC, EER and AP are undefined: they are returned as
    ``nan`` and a warning is logged (accuracy is still reported).

    Args:
        thr (float): Decision threshold on the fake score. Defaults to 0.5.
        fake_index (int): Index of the fake class in ``pred_score``.
            Defaults to 1.
        video_level (bool): Report video-level metrics when possible.
            Defaults to True.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None, which uses ``default_prefix`` (``'forgery'``).
        collect_dir (str, optional): Temporary dir for ``collect_device=
            'cpu'`` collection. Defaults to None.

    Example:
        >>> metric = ForgeryMetric()
        >>> metric.process(None, [dict(pred_score=[0.2, 0.8], gt_label=[1]),
        ...                       dict(pred_score=[0.7, 0.3], gt_label=[0])])
        >>> metric.compute_metrics(metric.results)['auc']
        100.0
    """
    default_prefix: Optional[str] = 'forgery'

    def __init__(self,
                 thr: float = 0.5,
                 fake_index: int = 1,
                 video_level: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device,
                         prefix=prefix,
                         collect_dir=collect_dir)
        self.thr = float(thr)
        self.fake_index = int(fake_index)
        self.video_level = bool(video_level)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the fake score, label and ids of each sample.

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict]): Predicted ``DataSample.to_dict()``
                outputs.
        """
        for sample in data_samples:
            if not isinstance(sample, dict):  # a DataSample, not a dict
                sample = sample.to_dict()
            branches = {
                k[len('pred_score_'):]: float(_to_numpy(v).reshape(-1)[
                    self.fake_index])
                for k, v in sample.items() if k.startswith('pred_score_')
            }
            self.results.append(
                dict(score=fake_score_of(sample, self.fake_index),
                     label=binary_label_of(sample),
                     video_id=sample.get('video_id'),
                     img_path=sample.get('img_path'),
                     method=sample.get('method'),
                     branch_scores=branches))

    def _scores(self, scores: np.ndarray, labels: np.ndarray,
                level: str) -> Dict[str, float]:
        """Acc/AUC/EER/AP (fractions) of one set of scores."""
        out = dict(acc=Fn.accuracy(scores, labels, self.thr))
        if labels.min() == labels.max():
            MMLogger.get_current_instance().warning(
                f'ForgeryMetric: only {"fake" if labels[0] else "real"} '
                f'samples at {level} level ({labels.size}); AUC, EER and '
                f'AP are undefined and reported as nan.')
            out.update(auc=np.nan, eer=np.nan, ap=np.nan)
        else:
            out.update(auc=Fn.binary_auc(scores, labels),
                       eer=Fn.eer(scores, labels),
                       ap=Fn.average_precision(scores, labels))
        return out

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute the metrics from the collected results.

        Args:
            results (list[dict]): Entries made by :meth:`process`.

        Returns:
            dict[str, float]: ``acc``, ``auc``, ``eer``, ``ap`` and possibly
            ``video_auc``, ``video_acc`` and ``auc_<branch>`` (the AUC of
            each branch head's own score, when the samples carry
            ``pred_score_<branch>``), in percent.
        """
        if len(results) == 0:
            MMLogger.get_current_instance().warning(
                'ForgeryMetric got no results; returning {}.')
            return {}
        scores = np.array([r['score'] for r in results], dtype=np.float64)
        labels = np.array([r['label'] for r in results], dtype=np.int64)
        frame = self._scores(scores, labels, 'frame')
        metrics = {k: 100.0 * float(v) for k, v in frame.items()}
        # per-branch heads (FoCus's pred_score_<branch>), where every
        # sample has them
        names = set.intersection(*(set(r.get('branch_scores') or ())
                                   for r in results))
        if labels.min() != labels.max():
            for b in sorted(names):
                s = np.array([r['branch_scores'][b] for r in results])
                metrics[f'auc_{b}'] = 100.0 * float(Fn.binary_auc(s, labels))

        video_ids = [r['video_id'] for r in results]
        if self.video_level and all(v is not None for v in video_ids) \
                and len(set(video_ids)) < len(video_ids):
            try:
                v_scores, v_labels, _ = Fn.video_level(scores, labels,
                                                       video_ids)
            except ValueError as e:  # a video id shared by real and fake
                MMLogger.get_current_instance().warning(
                    f'video-level metrics skipped: {e}')
            else:
                video = self._scores(v_scores, v_labels, 'video')
                metrics['video_auc'] = 100.0 * float(video['auc'])
                metrics['video_acc'] = 100.0 * float(video['acc'])
        return metrics
