# Copyright (c) mmfocus contributors.
"""Several test sets, each with its own evaluator, in one test run.

mmengine 0.10.7's :class:`~mmengine.runner.TestLoop` runs one dataloader
and one evaluator; several datasets are only possible as one
``ConcatDataset`` scored by one evaluator, which pools the test sets into a
single AUC. Cross-dataset evaluation (train on FF++, test on FF++, Celeb-DF,
DFDC, DFDC preview, WildDeepfake) needs one score per test set, hence this
loop.

The config's ``test_dataloader`` / ``test_evaluator`` stay the *main* test
set (so everything that reads them as one dataset keeps working: inference
pipelines, ``tools/analysis/robustness.py``, the hooks); the other sets are
listed in ``test_cfg``::

    test_cfg = dict(
        type='MultiDatasetTestLoop',
        name='ffpp-c23',                 # prefix of the main set's metrics
        extra=[
            dict(name='celebdf-v2',
                 dataset=dict(type='FaceForgeryDataset', ...),
                 evaluator=[dict(type='ForgeryMetric', prefix='celebdf-v2')],
                 dataloader=dict(batch_size=32)),  # optional overrides
            ...])
"""
import copy
from typing import Dict, List, Sequence, Union

from mmengine.evaluator import Evaluator
from mmengine.runner import TestLoop
from mmengine.runner.loops import _parse_losses
from torch.utils.data import DataLoader

from mmfocus.registry import LOOPS

_EXTRA_KEYS = {'name', 'dataset', 'evaluator', 'dataloader'}


def prefix_metrics(name: str, metrics: Dict) -> Dict:
    """Prefix every metric key with ``<name>/`` (keys that already start
    with it are kept, e.g. those of ``ForgeryMetric(prefix=name)``).

    Example:
        >>> prefix_metrics('cdf', {'cdf/auc': 80.0, 'forgery/acc': 70.0})
        {'cdf/auc': 80.0, 'cdf/forgery/acc': 70.0}
    """
    return {(k if k.startswith(f'{name}/') else f'{name}/{k}'): v
            for k, v in metrics.items()}


def _check_name(name, where: str) -> str:
    if not isinstance(name, str) or not name or '/' in name or \
            name != name.strip():
        raise ValueError(f'{where}: a test set name must be a non-empty '
                         f'string without "/", got {name!r}')
    return name


@LOOPS.register_module()
class MultiDatasetTestLoop(TestLoop):
    """Test on the main test set and on ``extra`` sets, one evaluator each.

    For every set in turn (the main one first) it calls the
    ``before_test_epoch`` hooks, runs the model on the set's dataloader,
    evaluates with the set's evaluator and calls ``after_test_epoch`` with
    that set's metrics, every key prefixed ``<name>/`` (see
    :func:`prefix_metrics`); ``before_test`` / ``after_test`` are called
    once. While a set runs, ``runner.test_dataloader`` /
    ``runner.test_evaluator`` are that set's and :attr:`current_set` is its
    name (None outside :meth:`run`), e.g. for a hook that files its output
    per set. :meth:`run` returns the
    metrics of all sets in one dict (set names are unique, so are the
    prefixed keys).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The main test set (the config's
            ``test_dataloader``).
        evaluator (Evaluator | dict | list): Its evaluator (the config's
            ``test_evaluator``).
        name (str): Name of the main set, the prefix of its metrics
            (e.g. ``'ffpp-c23'``).
        extra (Sequence[dict]): The other sets, each
            ``dict(name, dataset, evaluator, dataloader=None)``:
            ``dataset`` a dataset config, ``evaluator`` an evaluator config
            (a metric dict or a list of them), ``dataloader`` optional
            dataloader options overriding those of the main
            ``test_dataloader`` config (batch size, workers, sampler, ...).
            Defaults to ().
        fp16 (bool): Mixed-precision test. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 name: str,
                 extra: Sequence[dict] = (),
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        names = [_check_name(name, 'test_cfg.name')]
        base = None
        if isinstance(dataloader, dict):
            base = {k: copy.deepcopy(v) for k, v in dataloader.items()
                    if k != 'dataset'}
        self.sets = [(name, self.dataloader, self.evaluator)]
        if isinstance(extra, dict) or not isinstance(extra, (list, tuple)):
            raise TypeError(f'test_cfg.extra must be a list of dict(name, '
                            f'dataset, evaluator), got {type(extra)}')
        for i, item in enumerate(extra):
            where = f'test_cfg.extra[{i}]'
            if not isinstance(item, dict):
                raise TypeError(f'{where} must be a dict, got {item!r}')
            unknown = set(item) - _EXTRA_KEYS
            lacking = {'name', 'dataset', 'evaluator'} - set(item)
            if unknown or lacking:
                raise KeyError(f'{where}: expected keys name, dataset, '
                               f'evaluator (and optional dataloader); '
                               f'unknown {sorted(unknown)}, missing '
                               f'{sorted(lacking)}')
            set_name = _check_name(item['name'], f'{where}.name')
            if set_name in names:
                raise ValueError(f'{where}: test set name {set_name!r} is '
                                 f'used twice')
            names.append(set_name)
            loader_cfg = copy.deepcopy(base) if base is not None else {}
            loader_cfg.update(copy.deepcopy(dict(item.get('dataloader')
                                                 or {})))
            loader_cfg['dataset'] = copy.deepcopy(item['dataset'])
            if 'sampler' not in loader_cfg:
                raise KeyError(f'{where}: no dataloader options (give '
                               f'{where}.dataloader with batch_size and '
                               f'sampler when test_dataloader is built)')
            loader = runner.build_dataloader(
                loader_cfg, seed=runner.seed,
                diff_rank_seed=runner._randomness_cfg.get(
                    'diff_rank_seed', False))
            set_evaluator = item['evaluator']
            if not isinstance(set_evaluator, Evaluator):
                set_evaluator = runner.build_evaluator(set_evaluator)
            if hasattr(loader.dataset, 'metainfo'):
                set_evaluator.dataset_meta = loader.dataset.metainfo
            self.sets.append((set_name, loader, set_evaluator))
        self.names = names
        self.current_set = None

    def run(self) -> dict:
        """Test every set; returns all sets' prefixed metrics."""
        self.runner.call_hook('before_test')
        results: Dict[str, dict] = {}
        merged: Dict = {}
        try:
            for name, loader, evaluator in self.sets:
                # distinct names, so no key of two sets can coincide
                metrics = self._run_set(loader, evaluator, name)
                merged.update(metrics)
                results[name] = metrics
        finally:
            self.dataloader, self.evaluator = self.sets[0][1:]
            self.current_set = None
        self._log_summary(results)
        self.runner.call_hook('after_test')
        return merged

    def _run_set(self, loader, evaluator, name: str) -> dict:
        self.dataloader, self.evaluator = loader, evaluator
        self.current_set = name
        meta = getattr(loader.dataset, 'metainfo', None)
        if meta is not None:
            self.runner.visualizer.dataset_meta = meta
        self.runner.logger.info(f'testing on {name}: {len(loader.dataset)} '
                                f'samples')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.test_loss.clear()
        for idx, data_batch in enumerate(loader):
            self.run_iter(idx, data_batch)
        metrics = evaluator.evaluate(len(loader.dataset))
        if self.test_loss:
            metrics.update(_parse_losses(self.test_loss, 'test'))
        metrics = prefix_metrics(name, metrics)
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        return metrics

    def _log_summary(self, results: Dict[str, dict]) -> None:
        lines = ['cross-dataset test results:']
        for name, metrics in results.items():
            shown = ', '.join(
                f'{k[len(name) + 1:]}: {v:.4f}' if isinstance(v, float)
                else f'{k[len(name) + 1:]}: {v}'
                for k, v in metrics.items())
            lines.append(f'  {name}: {shown}')
        self.runner.logger.info('\n'.join(lines))
