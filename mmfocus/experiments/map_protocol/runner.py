# Copyright (c) mmfocus contributors.
"""The protocol runner: for each selected source, its map targets, the
training of its evaluation model and its tests, then (from the mixins) its
map quality and the tables. Each stage keeps its output under the work dir
and is skipped when the output exists, so rerunning resumes."""
import os
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.config import Config

from mmfocus.apis.inference import init_model
from mmfocus.apis.runner import build_runner, load_config
from mmfocus.maps.generate import generate_maps
from mmfocus.maps.sources import map_source_class
from mmfocus.utils.config import drop_hooks, drop_validation
from mmfocus.utils.device import default_device
from mmfocus.utils.dist import init_dist
from mmfocus.utils.io import atomic_write_json
from ..tables import finite_or_none
from .collect import ProtocolTables
from .quality import MapQualityStages
from .spec import (CROSS_DATASETS, DEFAULT_DROP_HOOKS, _json, check_spec,
                   expand_detectors, load_protocol_spec, scale_schedule)

_RUN_COUNTER = [0]


class MapProtocol(MapQualityStages, ProtocolTables):
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

    The map-quality stages come from :class:`~.quality.MapQualityStages`,
    the tables from :class:`~.collect.ProtocolTables`.
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
        expand_detectors(spec, spec_path or '<spec>')
        check_spec(spec, spec_path or '<spec>')
        self.spec = spec
        self.spec_path = spec_path or spec.filename or '<spec>'
        self.quick = bool(quick)
        names = [s['name'] for s in spec.sources]
        if sources:
            # a row by its name, or every detector's row of a map source
            known = set(names) | {s.get('source_name') for s in spec.sources}
            unknown = [s for s in sources if s not in known]
            if unknown:
                raise ValueError(f'unknown source(s) {", ".join(unknown)}; '
                                 f'the spec has {", ".join(names)}')
            self.selected = [
                s['name'] for s in spec.sources
                if s['name'] in set(sources) or s.get('source_name') in
                set(sources)]
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

    def maps_row(self, src: dict) -> bool:
        """Whether this row scores its source's maps: every row, or with
        ``detectors`` the first detector's row of each source."""
        dets = self.spec.get('detectors')
        return not dets or src.get('detector') == dets[0]['name']

    def label(self, src: dict) -> str:
        return src.get('label') or src['name']

    def path(self, *parts: str) -> str:
        return osp.join(self.work_dir, *parts)

    def _data_root(self, entry: Optional[dict] = None) -> str:
        return (entry or {}).get('data_root') or self.spec.data_root

    def row_root(self, src: dict) -> str:
        """The data root of a row (a detector of other data has its own)."""
        return src.get('data_root') or self.spec.data_root

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
        out_dir = self.path('maps', split, src.get('map_name', src['name']))
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
        root = self.row_root(src)
        if isinstance(maps, dict):
            return osp.abspath(self._generate(src, ann, root, 'train'))
        return osp.abspath(self._resolve(ann, root))

    # ------------------------------------------------------------- models
    def _load_cfg(self, src: dict, work_dir: str, test: bool) -> Config:
        opts = self._train_opts()
        cfg_options = list(opts.get('cfg_options') or []) + list(
            src.get('cfg_options') or [])
        path = src['config'].format(name=src['name'])
        cfg = load_config(path, cfg_options, work_dir=work_dir,
                          launcher=self.launcher)
        root = self.row_root(src)
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

    def test_sets(self, src: Optional[dict] = None) -> List[dict]:
        """The in-dataset set, then one entry per cross-dataset column:
        dicts with ``name``, ``kind`` and ``ann`` (resolved path) or
        ``status`` (why there is no number). A row of a detector on other
        data (``src``) has its own in-dataset set and cross sets, under the
        spec's column names."""
        own = src is not None and 'in_dataset' in src
        ind = dict(src['in_dataset'] if own else self.spec.in_dataset)
        name = self.spec.in_dataset.get('name', 'in-dataset')
        out = [dict(name=name, kind='in',
                    data_root=ind.get('data_root') or (
                        self.row_root(src) if own else self._data_root(ind)),
                    ann_file=ind.get('ann_file', 'test.json'))]
        cross_list = (src.get('cross_datasets') if own else
                      self.spec.get('cross_datasets')) or []
        cross = {c['name']: c for c in cross_list}
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
                for t in self.test_sets(src):
                    if t['kind'] == 'in' and t.get('status'):
                        raise FileNotFoundError(
                            f'{name}: in-dataset test annotation not found '
                            f'({t["status"]})')
                    if not t.get('status'):
                        self.test(src, ckpt, t)
            if self.maps_row(src):  # the maps are the detectors' same
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
