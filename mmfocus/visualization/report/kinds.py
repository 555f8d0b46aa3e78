# Copyright (c) mmfocus contributors.
"""Which kind of work dir a report is made of, from the files found there:

* ``test``: a ``tools/test.py`` run (its ``--out`` predictions dump);
* ``protocol``: ``tools/experiments/map_protocol.py`` (``results.json`` /
  ``map_quality.json``);
* ``robustness``: ``tools/analysis/robustness.py`` (``robustness.json``).
"""
import os.path as osp
from typing import Optional

from mmfocus.utils.io import load_json, peek_json
from .results import find_predictions

KINDS = ('test', 'protocol', 'robustness')
PROTOCOL_TABLES = ('results.json', 'map_quality.json')
ROBUSTNESS_FILE = 'robustness.json'


class NotAReportDir(FileNotFoundError):
    """The dir holds none of the files a report is made of (the message
    names the dir and what was looked for: ``cli_main`` prints it without
    the type)."""
    located = True


def _peek(path: str) -> Optional[dict]:
    """A JSON object file, or None (missing, not JSON, not an object)."""
    data = peek_json(path)
    return data if isinstance(data, dict) else None


def is_protocol_dir(work_dir: str) -> bool:
    """``results.json`` (rows, in-dataset set) or ``map_quality.json``
    (rows, priors) of the map protocol."""
    r = _peek(osp.join(work_dir, 'results.json'))
    q = _peek(osp.join(work_dir, 'map_quality.json'))
    return bool(r and 'rows' in r and 'in_dataset' in r) or bool(
        q and 'rows' in q and 'priors' in q)


def is_robustness_dir(work_dir: str) -> bool:
    """``robustness.json`` of the robustness study."""
    r = _peek(osp.join(work_dir, ROBUSTNESS_FILE))
    return bool(r and 'types' in r and 'clean_auc' in r)


def detect_kind(work_dir: str) -> str:
    """The kind of ``work_dir`` (see the module doc).

    Raises:
        FileNotFoundError: no such dir.
        NotAReportDir: none of the kinds (one line naming what was looked
            for).
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    if is_protocol_dir(work_dir):
        return 'protocol'
    if is_robustness_dir(work_dir):
        return 'robustness'
    try:
        find_predictions(work_dir)
    except FileNotFoundError as e:
        if not str(e).startswith('no predictions dump'):
            return 'test'  # several dumps: the test report says which
        raise NotAReportDir(
            f'nothing to report in {work_dir}: no predictions dump (run '
            f'tools/test.py with --out {osp.join(work_dir, "preds.json")} '
            'or pass --preds), no results.json / map_quality.json '
            '(tools/experiments/map_protocol.py) and no robustness.json '
            '(tools/analysis/robustness.py)') from None
    return 'test'


def load_protocol(work_dir: str) -> dict:
    """``{'results': ..., 'quality': ...}`` of a protocol work dir (None
    for a table it has not written).

    Raises:
        NotAReportDir: neither table is there.
    """
    out = {}
    for key, name in zip(('results', 'quality'), PROTOCOL_TABLES):
        path = osp.join(work_dir, name)
        out[key] = load_json(path, f'protocol table {name}') \
            if osp.isfile(path) else None
        if out[key] is not None and not (isinstance(out[key], dict) and
                                         isinstance(out[key].get('rows'),
                                                    list)):
            raise ValueError(f'{path}: not a table of '
                             'tools/experiments/map_protocol.py (no rows)')
    if out['results'] is None and out['quality'] is None:
        raise NotAReportDir(
            f'no map-protocol tables in {work_dir}: neither results.json '
            'nor map_quality.json (tools/experiments/map_protocol.py)')
    return out


def load_robustness(work_dir: str) -> dict:
    """``robustness.json`` of a robustness work dir.

    Raises:
        NotAReportDir: it is not there.
    """
    path = osp.join(work_dir, ROBUSTNESS_FILE)
    if not osp.isfile(path):
        raise NotAReportDir(
            f'no {ROBUSTNESS_FILE} in {work_dir} (the --out-dir of '
            'tools/analysis/robustness.py)')
    data = load_json(path, ROBUSTNESS_FILE)
    if not (isinstance(data, dict) and isinstance(data.get('types'), dict)
            and 'clean_auc' in data and 'levels' in data):
        raise ValueError(f'{path}: not the output of '
                         'tools/analysis/robustness.py (no types / '
                         'clean_auc / levels)')
    return data
