# Copyright (c) mmfocus contributors.
"""A map-protocol spec (``configs/experiments/map_protocol_*.py``): reading
and checking it, and the schedule scaling its ``train.max_iters`` applies
to every source's training config."""
import copy
import json
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

from mmfocus.maps.sources import map_source_names
from mmfocus.utils.config import merge_cfg_options, parse_cfg_options
from mmfocus.utils.config_index import find_config

CROSS_DATASETS = ('CDF', 'WDF', 'DFDC', 'DFDCp')
# what a detector of other data overrides in its rows (expand_detectors)
ROW_DATA_KEYS = ('data_root', 'train_ann', 'in_dataset', 'cross_datasets')
# hooks that cost time and add nothing to a protocol run
DEFAULT_DROP_HOOKS = ('FlopsProfileHook', 'ManipulationMapHook')


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
    try:
        path = find_config(path)  # a file, or a shipped spec by name
    except FileNotFoundError:
        raise FileNotFoundError(f'protocol spec not found: {path}') from None
    spec = Config.fromfile(path)
    if cfg_options:
        merge_cfg_options(spec, parse_cfg_options(cfg_options),
                          allow_new=False)
    expand_detectors(spec, path)
    check_spec(spec, path)
    return spec


def expand_detectors(spec: Config, path: str = '<spec>') -> None:
    """Rows = evaluation model x map source (Table III's layout).

    A spec with ``detectors = [dict(name='pcl', label='PCL',
    config='configs/experiments/pcl-r18_maps_demo-sbi.py',
    none_config='configs/experiments/pcl-r18_none_demo-sbi.py'), ...]``
    trains every detector on every source: ``sources`` is replaced by one
    row per pair, named ``<detector>/<source>`` (its work dirs nest the
    same way), labelled ``<detector label> / <source label>``, with the
    detector's ``config`` (``{name}`` is the source's name; a source
    without maps takes ``none_config`` when given). The rows keep
    ``source_name``, ``map_name`` (where its maps go: once per source, not
    per detector) and ``detector``. A spec without ``detectors`` is unchanged;
    expanding twice is a no-op.
    """
    dets = spec.get('detectors')
    if not dets or spec.get('_expanded'):
        return
    if not isinstance(dets, (list, tuple)):
        raise ValueError(f'{path}: "detectors" must be a list of dicts')
    names = []
    for i, d in enumerate(dets):
        if not isinstance(d, dict) or not d.get('name') or \
                not d.get('config'):
            raise ValueError(f'{path}: detectors[{i}] needs "name" and '
                             '"config"')
        if '/' in d['name'] or d['name'] in names:
            raise ValueError(f'{path}: detector name {d["name"]!r} is '
                             'repeated or has a "/"')
        names.append(d['name'])
    rows = []
    for d in dets:
        for s in spec.sources:
            if not isinstance(s, dict) or not s.get('name'):
                raise ValueError(f'{path}: every source needs a "name"')
            r = copy.deepcopy(dict(s))
            cfg = d.get('none_config') if s.get('maps') is None and \
                d.get('none_config') else d['config']
            own_data = 'data_root' in d
            row_name = f'{d["name"]}/{s["name"]}'
            r.update(name=row_name,
                     label=f'{d.get("label", d["name"])} / '
                     f'{s.get("label", s["name"])}',
                     config=cfg.replace('{name}', s['name']),
                     detector=d['name'],
                     map_name=row_name if own_data else s['name'],
                     source_name=s['name'],
                     map_label=s.get('label', s['name']))
            for key in ROW_DATA_KEYS:
                if key in d:
                    r[key] = copy.deepcopy(d[key])
            rows.append(r)
    spec.sources = rows
    spec._expanded = True



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
    """A cached JSON result of a stage; None when it is not there."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)
