# Copyright (c) mmfocus contributors.
"""The paper's map-source protocol (Tables I, II and VI), end to end.

For every map source of a protocol spec (``configs/experiments/
map_protocol_*.py``): write its map targets for the training annotation
(:func:`mmfocus.maps.generate.generate_maps`), train the multi-task
evaluation model on them (an mmengine Runner, as ``tools/train.py``), test
the final checkpoint in-dataset and cross-dataset (as ``tools/test.py``),
and measure the source's maps against the true masks of the test split
(:class:`~mmfocus.evaluation.MapQualityMetric`). Two tables come out, each as
Markdown and JSON: ``results`` (the paper's layout) and ``map_quality``.

Every step keeps its output under ``work_dir`` and is skipped when the
output exists, so rerunning the same command resumes: finished maps are
kept, an interrupted training resumes from its last checkpoint, a finished
one is not retrained, finished tests are not rerun.

Example:
    >>> from mmfocus.experiments import MapProtocol, load_protocol_spec
    >>> spec = load_protocol_spec('configs/experiments/map_protocol_demo.py')
    >>> out = MapProtocol(spec, sources=['none', 'ssim']).run()
    >>> out['results_md']
    'work_dirs/map_protocol_demo/results.md'
"""
import copy
import glob
import json
import os
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

from mmfocus.apis.inference import (image_size_from_header, inference_model,
                                    init_model)
from mmfocus.apis.runner import build_runner, load_config
from mmfocus.datasets.transforms import LoadManipulationMask
from mmfocus.evaluation import functional as Fn
from mmfocus.evaluation.metrics import MapQualityMetric
from mmfocus.maps.generate import generate_maps
from mmfocus.maps.sources import map_source_class, map_source_names
from mmfocus.utils.config import (drop_hooks, drop_validation,
                                  merge_cfg_options)
from mmfocus.utils.device import default_device
from mmfocus.utils.dist import init_dist
from mmfocus.utils.io import atomic_write, atomic_write_json, imread_checked
from .tables import finite_or_none, map_quality_markdown, results_markdown

CROSS_DATASETS = ('CDF', 'WDF', 'DFDC', 'DFDCp')
# hooks that cost time and add nothing to a protocol run
DEFAULT_DROP_HOOKS = ('FlopsProfileHook', 'ManipulationMapHook')
_RUN_COUNTER = [0]


def load_protocol_spec(path: str,
                       cfg_options: Optional[Sequence[str]] = None
                       ) -> Config:
    """Read and check a protocol spec.

    Args:
        path (str): The spec (a Python config file).
        cfg_options (Sequence[str], optional): ``KEY=VALUE`` overrides;
            keys must exist in the spec (strict, like ``--cfg-options``).

    Returns:
        Config: The spec, checked.

    Raises:
        FileNotFoundError: no such spec.
        KeyError, ValueError: a missing or bad key (the message names the
            spec file).
    """
    from mmengine.config import DictAction

    if not osp.isfile(path):
        raise FileNotFoundError(f'protocol spec not found: {path}')
    spec = Config.fromfile(path)
    if cfg_options:
        action = DictAction(option_strings=[], dest='cfg_options')
        ns = type('NS', (), {})()
        action(None, ns, list(cfg_options))
        merge_cfg_options(spec, ns.cfg_options, allow_new=False)
    check_spec(spec, path)
    return spec


def check_spec(spec: Config, path: str = '<spec>') -> None:
    """Check the keys of a protocol spec; raise naming ``path``."""
    known = map_source_names()
    for key in ('work_dir', 'data_root', 'train_ann', 'sources',
                'in_dataset'):
        if spec.get(key) is None:
            raise KeyError(f'{path}: the protocol spec has no "{key}"')
    sources = spec.sources
    if not isinstance(sources, (list, tuple)) or not sources:
        raise ValueError(f'{path}: "sources" must be a non-empty list of '
                         'dicts')
    names = []
    for i, s in enumerate(sources):
        if not isinstance(s, dict) or not s.get('name') or \
                not s.get('config'):
            raise ValueError(f'{path}: sources[{i}] needs "name" and '
                             '"config"')
        if s['name'] in names:
            raise ValueError(f'{path}: source name {s["name"]!r} twice')
        names.append(s['name'])
        maps = s.get('maps')
        if maps is None or maps == 'annotation':
            continue
        if not isinstance(maps, dict) or 'source' not in maps:
            raise ValueError(
                f'{path}: sources[{i}] ({s["name"]}): "maps" must be None '
                '(no map), "annotation" (the annotation\'s own mask_path) or '
                'dict(source=..., [config=..., checkpoint=...])')
        if maps['source'] not in known:
            raise ValueError(
                f'{path}: source {s["name"]!r}: map source '
                f'{maps["source"]!r} is not a registered map source '
                f'(MAP_SOURCES: {", ".join(known)})')
    cross = spec.get('cross_datasets') or []
    for i, c in enumerate(cross):
        if not isinstance(c, dict) or not c.get('name'):
            raise ValueError(f'{path}: cross_datasets[{i}] needs a "name"')


def scale_schedule(cfg: Config, max_iters: int) -> None:
    """Set an iteration-based config to ``max_iters`` iterations.

    ``train_cfg.max_iters`` is set; every iteration-based parameter
    scheduler's ``begin``/``end`` (and a cosine ``T_max``) is scaled by
    ``max_iters / old max_iters`` (at least one iteration long); the
    checkpoint, logger and validation intervals are capped at ``max_iters``
    (the last iteration is always saved).

    Args:
        cfg (Config): A training config with an ``IterBasedTrainLoop``.
        max_iters (int): The new number of iterations.
    """
    if max_iters < 1:
        raise ValueError(f'max_iters must be >= 1, got {max_iters}')
    old = cfg.train_cfg.get('max_iters')
    if old is None:
        raise KeyError('scale_schedule needs train_cfg.max_iters (an '
                       'iteration-based loop)')
    ratio = max_iters / float(old)
    scheds = cfg.get('param_scheduler') or []
    if isinstance(scheds, dict):
        scheds = [scheds]

    def scale(m: int) -> int:  # a milestone > 0 stays > 0 (keeps order)
        return 0 if m <= 0 else min(max_iters, max(1, int(round(m * ratio))))

    for s in scheds:
        if s.get('by_epoch', True):
            continue
        begin = min(scale(s.get('begin', 0)), max_iters - 1)
        end = s.get('end')
        if end is not None:
            end = max(begin + 1, scale(end))
            s['end'] = end
        s['begin'] = begin
        if 'T_max' in s and end is not None:
            s['T_max'] = end - begin
    cfg.train_cfg.max_iters = max_iters
    if cfg.train_cfg.get('val_interval') is not None:
        cfg.train_cfg.val_interval = min(cfg.train_cfg.val_interval,
                                         max_iters)
    hooks = cfg.get('default_hooks') or {}
    if hooks.get('checkpoint') and hooks.checkpoint.get('interval'):
        hooks.checkpoint.interval = min(hooks.checkpoint.interval, max_iters)
    if hooks.get('logger') and hooks.logger.get('interval'):
        hooks.logger.interval = min(hooks.logger.interval, max_iters)


def _json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


class MapProtocol:
    """Run the map-source protocol of a spec and write its tables.

    Args:
        spec (Config): From :func:`load_protocol_spec`.
        spec_path (str, optional): Shown in the tables. Defaults to None.
        sources (Sequence[str], optional): Run only these sources (names of
            ``spec.sources``). The tables list every source that is
            selected or has finished before. Defaults to None (all).
        quick (bool): Apply ``spec.quick`` (fewer iterations, smaller
            batches) and work in ``<work_dir>_quick``. Defaults to False.
        work_dir (str, optional): Overrides ``spec.work_dir``.
        device (str, optional): Device for map generation. Defaults to
            None: ``cuda:<local rank>`` when CUDA is available, else cpu.
        launcher (str): ``'none'``, ``'pytorch'`` or ``'slurm'``: launch
            the tool with e.g. ``torchrun`` and every training/test runs
            distributed, map generation shares the frames among the
            processes, rank 0 measures map quality and writes the tables.
            Defaults to ``'none'``.
        progress (bool): Progress bars in map generation. Defaults to True.
        log (callable): Where progress lines go. Defaults to print.
    """

    def __init__(self,
                 spec: Config,
                 spec_path: Optional[str] = None,
                 sources: Optional[Sequence[str]] = None,
                 quick: bool = False,
                 work_dir: Optional[str] = None,
                 device: Optional[str] = None,
                 launcher: str = 'none',
                 progress: bool = True,
                 log: Callable[[str], None] = print) -> None:
        check_spec(spec, spec_path or '<spec>')
        self.spec = spec
        self.spec_path = spec_path or spec.filename or '<spec>'
        self.quick = bool(quick)
        names = [s['name'] for s in spec.sources]
        if sources:
            unknown = [s for s in sources if s not in names]
            if unknown:
                raise ValueError(f'unknown source(s) {", ".join(unknown)}; '
                                 f'the spec has {", ".join(names)}')
            self.selected = [n for n in names if n in set(sources)]
        else:
            self.selected = names
        wd = work_dir or spec.work_dir
        if quick and not work_dir:
            wd = wd.rstrip('/\\') + '_quick'
        self.work_dir = wd
        self.launcher = launcher
        self.progress = progress
        self._log = log
        self._init_dist()
        self.device = device or default_device()

    # ------------------------------------------------------------ helpers
    def _init_dist(self) -> None:
        from mmengine.dist import get_rank
        init_dist(self.launcher)  # NCCL with GPUs, gloo on CPU
        self.rank = get_rank()

    def log(self, msg: str) -> None:
        if self.rank == 0:
            self._log(f'[map_protocol] {msg}')

    def _barrier(self) -> None:
        from mmengine.dist import barrier
        barrier()

    @staticmethod
    def _rank0(value):
        """``value`` as rank 0 sees it (every rank takes the same branch
        on files that rank 0 writes)."""
        from mmengine.dist import broadcast_object_list, is_distributed
        if not is_distributed():
            return value
        box = [value]
        broadcast_object_list(box, src=0)
        return box[0]

    def _source(self, name: str) -> dict:
        return next(s for s in self.spec.sources if s['name'] == name)

    def label(self, src: dict) -> str:
        return src.get('label') or src['name']

    def path(self, *parts: str) -> str:
        return osp.join(self.work_dir, *parts)

    def _data_root(self, entry: Optional[dict] = None) -> str:
        return (entry or {}).get('data_root') or self.spec.data_root

    def _train_opts(self) -> dict:
        opts = dict(self.spec.get('train') or {})
        if self.quick:
            opts.update(self.spec.get('quick') or {})
        return opts

    def skip_reason(self, src: dict) -> Optional[str]:
        """Why a source cannot run (a missing map-model checkpoint or
        config), or None."""
        maps = src.get('maps')
        if isinstance(maps, dict):
            for key in ('config', 'checkpoint'):
                p = maps.get(key)
                if p and not osp.isfile(p):
                    return f'n/a (needs {key}: {p})'
        return None

    # --------------------------------------------------------------- maps
    def _map_model(self, maps: dict):
        if not map_source_class(maps['source']).needs_model:
            return None
        if not maps.get('config') or not maps.get('checkpoint'):
            raise ValueError(f'map source {maps["source"]!r} needs "config" '
                             'and "checkpoint" in the spec')
        return init_model(maps['config'], maps['checkpoint'],
                          device=self.device,
                          cfg_options=maps.get('cfg_options'))

    def _generate(self, src: dict, ann_file: str, data_root: str,
                  split: str, all_frames: bool = False) -> Optional[str]:
        """Maps of one source for one annotation; returns the written
        annotation (existing output: skipped)."""
        maps = src['maps']
        out_dir = self.path('maps', split, src['name'])
        stem = osp.splitext(osp.basename(ann_file))[0]
        out_ann = osp.join(out_dir, f'{stem}_maps-{maps["source"]}.json')
        if all_frames and map_source_class(maps['source']).needs_twin:
            all_frames = False  # a real frame vs itself: zero, no file
        if self._rank0(osp.isfile(out_ann)):
            self.log(f'{src["name"]}: {split} maps already there ({out_ann})')
            return out_ann
        ann_in = ann_file
        if all_frames:
            # model-based maps of the real twins too (paired map-AUC): a
            # view of the annotation where every frame is to be mapped
            ann_in = osp.join(out_dir, f'{stem}_all-frames.json')
            if self.rank == 0:
                ann = _json(self._resolve(ann_file, data_root))
                for e in ann['data_list']:
                    e['gt_label'] = 1
                atomic_write_json(ann_in, ann)
            self._barrier()
        twins = '; real frames too, as twins' if all_frames else ''
        self.log(f'{src["name"]}: writing {maps["source"]} maps for '
                 f'{ann_file} ({split}{twins})')
        # every rank: generate_maps shares the frames among the processes
        generate_maps(ann_in, data_root, maps['source'], out_dir,
                      out_ann=out_ann, model=self._map_model(maps),
                      batch_size=int(maps.get('batch_size', 16)),
                      progress=self.progress,
                      log=lambda m: self.log(f'  {m}'),
                      **dict(maps.get('kwargs') or {}))
        self._barrier()
        return out_ann

    @staticmethod
    def _resolve(ann_file: str, data_root: str) -> str:
        if osp.isabs(ann_file) or osp.isfile(ann_file):
            p = ann_file
        else:
            p = osp.join(data_root, ann_file)
        if not osp.isfile(p):
            raise FileNotFoundError(f'annotation file not found: {p}')
        return p

    def train_annotation(self, src: dict) -> str:
        """The training annotation of a source (maps written first)."""
        maps = src.get('maps')
        ann = src.get('train_ann') or self.spec.train_ann
        if isinstance(maps, dict):
            return osp.abspath(
                self._generate(src, ann, self.spec.data_root, 'train'))
        return osp.abspath(self._resolve(ann, self.spec.data_root))

    # ------------------------------------------------------------- models
    def _load_cfg(self, src: dict, work_dir: str, test: bool) -> Config:
        opts = self._train_opts()
        cfg_options = list(opts.get('cfg_options') or []) + list(
            src.get('cfg_options') or [])
        path = src['config'].format(name=src['name'])
        cfg = load_config(path, cfg_options, work_dir=work_dir,
                          launcher=self.launcher)
        root = self.spec.data_root
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            loader = cfg.get(key)
            if not loader:
                continue
            loader.dataset.data_root = root
            if opts.get('num_workers') is not None:
                loader.num_workers = int(opts['num_workers'])
                if loader.num_workers == 0:
                    loader.persistent_workers = False
        if opts.get('max_iters'):
            scale_schedule(cfg, int(opts['max_iters']))
        if opts.get('batch_size'):
            cfg.train_dataloader.batch_size = int(opts['batch_size'])
        if opts.get('test_batch_size') and cfg.get('test_dataloader'):
            cfg.test_dataloader.batch_size = int(opts['test_batch_size'])
        drop = set(opts.get('drop_hooks', DEFAULT_DROP_HOOKS))
        if test:
            drop |= {'FlopsProfileHook', 'RNGStateHook',
                     'ManipulationMapHook'}
        drop_hooks(cfg, drop)
        if not test and not opts.get('validate', False):
            drop_validation(cfg)
        _RUN_COUNTER[0] += 1
        cfg.experiment_name = (f'{src["name"]}-{"test" if test else "train"}'
                               f'-{os.getpid()}-{_RUN_COUNTER[0]}')
        return cfg

    def train(self, src: dict) -> str:
        """Train (or resume, or skip) the model of one source; return its
        final checkpoint."""
        work = self.path('train', src['name'])
        cfg = self._load_cfg(src, work, test=False)
        max_iters = cfg.train_cfg.max_iters
        final = osp.join(work, f'iter_{max_iters}.pth')
        if self._rank0(osp.isfile(final)):
            self.log(f'{src["name"]}: trained ({final})')
            return final
        cfg.train_dataloader.dataset.ann_file = self.train_annotation(src)
        if osp.isfile(osp.join(work, 'last_checkpoint')):
            cfg.resume, cfg.load_from = True, None
            self.log(f'{src["name"]}: resuming training in {work}')
        else:
            self.log(f'{src["name"]}: training {max_iters} iterations '
                     f'({cfg.filename}) in {work}')
        build_runner(cfg).train()
        self._barrier()  # rank 0 saves the checkpoint
        if not osp.isfile(final):
            raise RuntimeError(f'{src["name"]}: training ended without '
                               f'{final}')
        return final

    def test_sets(self) -> List[dict]:
        """The in-dataset set, then one entry per cross-dataset column:
        dicts with ``name``, ``kind`` and ``ann`` (resolved path) or
        ``status`` (why there is no number)."""
        ind = dict(self.spec.in_dataset)
        out = [dict(name=ind.get('name', 'in-dataset'), kind='in',
                    data_root=self._data_root(ind),
                    ann_file=ind.get('ann_file', 'test.json'))]
        cross = {c['name']: c for c in self.spec.get('cross_datasets') or []}
        columns = list(self.spec.get('cross_columns', CROSS_DATASETS))
        columns += [n for n in cross if n not in columns]
        for name in columns:
            c = cross.get(name)
            if c is None or not c.get('ann_file'):
                out.append(dict(name=name, kind='cross',
                                status='n/a (not configured)'))
                continue
            out.append(dict(name=name, kind='cross',
                            data_root=c.get('data_root', ''),
                            ann_file=c['ann_file']))
        for t in out:
            if t.get('status'):
                continue
            p = t['ann_file'] if osp.isabs(t['ann_file']) else osp.join(
                t['data_root'], t['ann_file'])
            if osp.isfile(p):
                t['ann'] = p
            else:
                t['status'] = f'n/a (not found: {p})'
        return out

    def test(self, src: dict, ckpt: str, tset: dict) -> dict:
        """Test one checkpoint on one test set (cached)."""
        out = self.path('test', src['name'], f'{tset["name"]}.json')
        done = self._rank0(_json(out))
        stamp = dict(checkpoint=osp.abspath(ckpt),
                     checkpoint_mtime=osp.getmtime(ckpt), ann=tset['ann'])
        if done and all(done.get(k) == v for k, v in stamp.items()):
            return done
        cfg = self._load_cfg(src, self.path('test', src['name'], 'runs'),
                             test=True)
        ds = cfg.test_dataloader.dataset
        ds.data_root = tset['data_root']
        ds.ann_file = tset['ann_file']
        if tset['kind'] == 'cross':
            # cross-dataset sets: detection only (no masks there)
            ds.pop('methods', None)
            cfg.test_evaluator = [dict(type='ForgeryMetric')]
        cfg.load_from, cfg.resume = ckpt, False
        self.log(f'{src["name"]}: testing on {tset["name"]} ({tset["ann"]})')
        metrics = build_runner(cfg, strict_checkpoint=ckpt).test()
        result = dict(stamp, source=src['name'], test_set=tset['name'],
                      metrics={k: float(v) for k, v in metrics.items()})
        if self.rank == 0:
            atomic_write_json(out, finite_or_none(result))
        return result

    # -------------------------------------------------------- map quality
    def _quality_entries(self) -> Tuple[List[dict], str, str]:
        mq = dict(self.spec.get('map_quality') or {})
        data_root = mq.get('data_root') or self.spec.data_root
        ann_file = mq.get('ann_file') or self.spec.in_dataset.get(
            'ann_file', 'test.json')
        ann = _json(self._resolve(ann_file, data_root))
        return ann['data_list'], data_root, ann_file

    def _metric(self, priors: bool):
        mq = dict(self.spec.get('map_quality') or {})
        region_ann = mq.get('region_prior_ann')
        return MapQualityMetric(
            map_size=tuple(mq.get('map_size', (56, 56))),
            mask_thr=float(mq.get('mask_thr', 0.5)),
            iou_thrs=(float(mq.get('iou_thr', 0.5)), ),
            priors=priors,
            region_prior_ann=region_ann if priors else None,
            data_root=mq.get('data_root') or self.spec.data_root)

    def _samples(self, entries: List[dict], data_root: str,
                 map_of: Callable[[dict], Optional[str]]) -> List[dict]:
        """Sample dicts for MapQualityMetric: each frame's map (read from
        ``map_of(entry)``, zeros when None) and true mask, read by
        :class:`~mmfocus.datasets.transforms.LoadManipulationMask`."""
        load = LoadManipulationMask()

        def join(p):
            return p if not p or osp.isabs(p) else osp.join(data_root, p)

        samples = []
        for e in entries:
            img = join(e['img_path'])
            size = image_size_from_header(img)
            if size is None:
                raise FileNotFoundError(f'cannot read the size of {img}')
            shape = (size[1], size[0])
            mask = load(dict(img_shape=shape, gt_label=e['gt_label'],
                             mask_path=join(e.get('mask_path'))))['gt_mask']
            pred = load(dict(img_shape=shape, gt_label=0,
                             mask_path=map_of(e)))['gt_mask']
            samples.append(
                dict(img_path=e['img_path'], pair_path=e.get('pair_path'),
                     method=e.get('method'),
                     gt_label=int(e['gt_label']), pred_map=pred,
                     gt_mask=mask if int(e['gt_label']) == 1 else None))
        return samples

    def _evaluate(self, samples: List[dict], priors: bool) -> dict:
        metric = self._metric(priors)
        metric.process(None, samples)
        return metric.compute_metrics(metric.results)

    def map_quality(self, src: dict) -> Optional[dict]:
        """Map quality of one source's maps on the test split (cached);
        None for a source without maps."""
        maps = src.get('maps')
        if maps is None:
            return None
        out = self.path('map_quality', f'{src["name"]}.json')
        done = self._rank0(_json(out))
        if done is not None:
            return done
        entries, data_root, ann_file = self._quality_entries()
        map_of = self._map_lookup(src, entries, ann_file, data_root)
        if self.rank != 0:
            return None
        self.log(f'{src["name"]}: map quality on {ann_file}')
        metrics = self._evaluate(self._samples(entries, data_root, map_of),
                                 priors=False)
        result = dict(source=src['name'], ann_file=ann_file,
                      metrics=metrics)
        atomic_write_json(out, finite_or_none(result))
        return result

    def _map_lookup(self, src: dict, entries: List[dict], ann_file: str,
                    data_root: str) -> Callable[[dict], Optional[str]]:
        """``entry -> path of the source's map of that frame`` (None: no
        map) on the test annotation (``entries``, read from ``ann_file``);
        the maps are generated (cached)."""
        if src['maps'] == 'annotation':
            written = {e['img_path']: e.get('mask_path') for e in entries}
        else:
            gen = self._generate(src, ann_file, data_root, 'test',
                                 all_frames=True)
            written = {e['img_path']: e.get('mask_path')
                       for e in _json(gen)['data_list']}

        def map_of(e):
            p = written.get(e['img_path'])
            return p if not p or osp.isabs(p) else osp.join(data_root, p)

        return map_of

    def faithfulness(self, src: dict) -> Optional[dict]:
        """Deletion / insertion faithfulness of one source's maps (cached
        in ``map_quality/<name>_faithfulness.json``).

        ``spec.faithfulness``: ``num_fakes`` test fakes (spread evenly over
        the annotation), ``steps``, ``blur_sigma``, ``seed`` and ``scorer``
        (``dict(config, checkpoint)``: the detector whose fake score the
        curves follow for sources without a model of their own, e.g. SSIM;
        a model-based source is scored by its own model). Each curve: the
        fake score as the top-k % of map pixels are blurred away
        (deletion, lower area = more faithful) or restored into a blurred
        face (insertion, higher = more faithful); beside the same curves
        for seeded random maps (:func:`mmfocus.evaluation.functional.
        deletion_insertion_random`). None when not configured, for a
        source without maps, or on ranks other than 0.
        """
        import cv2
        import numpy as np

        fc = self.spec.get('faithfulness')
        if not fc or src.get('maps') is None:
            return None
        out = self.path('map_quality', f'{src["name"]}_faithfulness.json')
        done = self._rank0(_json(out))
        if done is not None or self.rank != 0:
            return done
        maps = src['maps']
        model_cfg = maps if isinstance(maps, dict) and maps.get(
            'checkpoint') else fc.get('scorer')
        if not model_cfg or not osp.isfile(model_cfg.get('checkpoint', '')):
            return None
        entries, data_root, ann_file = self._quality_entries()
        map_of = self._map_lookup(src, entries, ann_file, data_root)
        fakes = [e for e in entries if int(e['gt_label']) == 1]
        n = min(int(fc.get('num_fakes', 24)), len(fakes))
        pick = [fakes[int(i)] for i in np.linspace(0, len(fakes) - 1, n)]
        model = init_model(model_cfg['config'], model_cfg['checkpoint'],
                           device=self.device)

        def score_fn(batch):
            return [float(p.pred_score[1]) for p in
                    inference_model(model, [np.ascontiguousarray(b)
                                            for b in batch])]

        steps, sigma = int(fc.get('steps', 10)), float(
            fc.get('blur_sigma', 5.0))
        rows = dict(deletion=[], insertion=[], random_deletion=[],
                    random_insertion=[])
        for k, e in enumerate(pick):
            img = imread_checked(osp.join(data_root, e['img_path']))
            mpath = map_of(e)
            sal = np.zeros(img.shape[:2], np.float32) if not mpath else \
                imread_checked(mpath, cv2.IMREAD_UNCHANGED).astype(
                    np.float32)
            r = Fn.deletion_insertion(score_fn, img, sal, steps=steps,
                                      blur_sigma=sigma)
            b = Fn.deletion_insertion_random(
                score_fn, img, steps=steps, blur_sigma=sigma,
                seed=int(fc.get('seed', 0)) + k)
            rows['deletion'].append(r['deletion_auc'])
            rows['insertion'].append(r['insertion_auc'])
            rows['random_deletion'].append(b['deletion_auc'])
            rows['random_insertion'].append(b['insertion_auc'])
        result = dict(source=src['name'], scorer=model_cfg['checkpoint'],
                      num_fakes=n, steps=steps, blur_sigma=sigma)
        for key, vals in rows.items():
            result[f'{key}_auc'] = float(np.mean(vals))
            result[f'{key}_auc_std'] = float(np.std(vals))
        atomic_write_json(out, finite_or_none(result))
        return result

    def prior_quality(self) -> Dict[str, dict]:
        """The position-prior baselines on the test split's masks
        (cached in ``map_quality/priors.json``)."""
        cache = self.path('map_quality', 'priors.json')
        entries, data_root, ann_file = self._quality_entries()
        done = _json(cache)
        if done is not None and done.get('ann_file') == ann_file:
            return done['priors']
        m = self._evaluate(self._samples(entries, data_root, lambda e: None),
                           priors=True)
        out = {}
        for key in ('prior_mean_mask', 'prior_gaussian', 'prior_region'):
            vals = {k[len(key) + 1:]: v for k, v in m.items()
                    if k.startswith(key + '/')}
            # the priors' per-region-type scores (<group>/<prior>/<key>)
            for k, v in m.items():
                parts = k.split('/')
                if len(parts) == 3 and parts[1] == key:
                    vals[f'{parts[0]}/{parts[2]}'] = v
                    if f'{parts[0]}/num_fakes' in m:
                        vals[f'{parts[0]}/num_fakes'] = m[
                            f'{parts[0]}/num_fakes']
            if vals:
                vals['num_fakes'] = m.get('num_fakes')
                vals['num_pairs'] = m.get('num_pairs')
                out[key] = vals
        atomic_write_json(cache, finite_or_none(
            dict(ann_file=ann_file, priors=out)))
        return out

    # -------------------------------------------------------------- tables
    def _finished(self) -> List[str]:
        """Sources to list: selected ones and those with earlier results."""
        names = []
        for s in self.spec.sources:
            n = s['name']
            if n in self.selected or glob.glob(
                    self.path('test', n, '*.json')) or osp.isfile(
                        self.path('map_quality', f'{n}.json')):
                names.append(n)
        return names

    def collect_results(self) -> dict:
        """The results table as a dict (from the cached test results)."""
        sets = self.test_sets()
        cross = [t['name'] for t in sets if t['kind'] == 'cross']
        rows = []
        for name in self._finished():
            src = self._source(name)
            row = dict(name=name, label=self.label(src),
                       maps=copy.deepcopy(src.get('maps')))
            reason = self.skip_reason(src)
            if reason:
                row['status'] = reason
                rows.append(row)
                continue
            row['in_dataset'], row['cross'] = None, {}
            for t in sets:
                if t.get('status'):
                    cell = dict(status=t['status'])
                else:
                    r = _json(self.path('test', name, f'{t["name"]}.json'))
                    cell = (dict(status='n/a (not run)') if r is None else
                            dict(acc=r['metrics'].get('forgery/acc'),
                                 auc=r['metrics'].get('forgery/auc'),
                                 metrics=r['metrics'],
                                 checkpoint=r['checkpoint']))
                if t['kind'] == 'in':
                    row['in_dataset'] = cell
                else:
                    row['cross'][t['name']] = cell
            rows.append(row)
        opts = self._train_opts()
        return dict(
            title=self.spec.get('title', 'Map sources as training targets'),
            description=self.spec.get('description'),
            spec=self.spec_path, work_dir=self.work_dir,
            in_dataset=sets[0]['name'], cross_datasets=cross,
            training=(f'{opts.get("max_iters", "config")} iterations'
                      f'{" (--quick)" if self.quick else ""}, final '
                      'checkpoint of each source'),
            rows=rows)

    def collect_map_quality(self) -> dict:
        """The map-quality table as a dict (from the cached results)."""
        mq = dict(self.spec.get('map_quality') or {})
        rows, no_map = [], []
        _, _, ann_file = self._quality_entries()
        for name in self._finished():
            src = self._source(name)
            if src.get('maps') is None:
                no_map.append(self.label(src))
                continue
            row = dict(name=name, label=self.label(src),
                       maps=copy.deepcopy(src.get('maps')))
            reason = self.skip_reason(src)
            r = _json(self.path('map_quality', f'{name}.json'))
            if reason:
                row['status'] = reason
            elif r is None:
                row['status'] = 'n/a (not run)'
            elif not r['metrics']:
                row['status'] = 'n/a (no true masks)'
            else:
                row['metrics'] = r['metrics']
                faith = _json(self.path('map_quality',
                                        f'{name}_faithfulness.json'))
                if faith is not None:
                    row['faithfulness'] = faith
            rows.append(row)
        return dict(
            title=self.spec.get('map_quality_title',
                                'Map quality against the true masks'),
            description=mq.get('description'),
            spec=self.spec_path, work_dir=self.work_dir, ann_file=ann_file,
            map_size=list(mq.get('map_size', (56, 56))),
            mask_thr=float(mq.get('mask_thr', 0.5)),
            iou_thr=float(mq.get('iou_thr', 0.5)), rows=rows,
            priors=self.prior_quality(), no_map=no_map)

    def write_tables(self) -> Dict[str, str]:
        """Write results.{md,json} and map_quality.{md,json} atomically."""
        results = self.collect_results()
        quality = self.collect_map_quality()
        paths = dict(results_md=self.path('results.md'),
                     results_json=self.path('results.json'),
                     map_quality_md=self.path('map_quality.md'),
                     map_quality_json=self.path('map_quality.json'))
        atomic_write(paths['results_md'],
                     results_markdown(results).encode())
        atomic_write_json(paths['results_json'], finite_or_none(results))
        atomic_write(paths['map_quality_md'],
                     map_quality_markdown(quality).encode())
        atomic_write_json(paths['map_quality_json'],
                          finite_or_none(quality))
        return paths

    # ----------------------------------------------------------------- run
    def run(self) -> Dict[str, str]:
        """Maps -> training -> tests -> map quality for every selected
        source, then the tables.

        Returns:
            dict[str, str]: Paths of ``results_md``, ``results_json``,
            ``map_quality_md``, ``map_quality_json``.
        """
        sets = self.test_sets()
        for t in sets:
            if t['kind'] == 'in' and t.get('status'):
                raise FileNotFoundError(
                    f'in-dataset test annotation not found: '
                    f'{osp.join(t["data_root"], t["ann_file"])}')
            if t.get('status'):
                self.log(f'cross-dataset {t["name"]}: {t["status"]}')
        for name in self.selected:
            src = self._source(name)
            reason = self.skip_reason(src)
            if reason:
                warnings.warn(f'map protocol: source {name} skipped: '
                              f'{reason}')
                self.log(f'{name}: skipped, {reason}')
                continue
            if self.spec.get('train_models', True):
                ckpt = self.train(src)
                for t in sets:
                    if not t.get('status'):
                        self.test(src, ckpt, t)
            self.map_quality(src)
            self.faithfulness(src)
        paths = {}
        if self.rank == 0:
            paths = self.write_tables()
            self.log('tables: ' + ', '.join(paths.values()))
        self._barrier()
        return paths


def run_map_protocol(spec_path: str, **kwargs) -> Dict[str, str]:
    """Load a spec and run :class:`MapProtocol` (see its arguments;
    ``cfg_options`` goes to :func:`load_protocol_spec`)."""
    cfg_options = kwargs.pop('cfg_options', None)
    spec = load_protocol_spec(spec_path, cfg_options)
    return MapProtocol(spec, spec_path=spec_path, **kwargs).run()


__all__ = ['MapProtocol', 'load_protocol_spec', 'check_spec',
           'scale_schedule', 'run_map_protocol', 'CROSS_DATASETS']
