# Copyright (c) mmfocus contributors.
"""What :class:`~mmfocus.apis.FocusInferencer` writes under ``out_dir``:
``results.jsonl`` (one line per input, as each is final), ``results.json``
(at the end, atomically) and unique file names under ``out_dir/vis/``."""
import json
import os
import os.path as osp
from typing import List, Optional, Set

import numpy as np

from mmfocus.utils.io import atomic_write_json

__all__ = [
    'RESULTS_FILE', 'RESULTS_LINES_FILE', 'ResultsNotSavedError',
    'OutputDir', 'LineWriter', 'to_json', 'save_results', 'one_line'
]

RESULTS_FILE = 'results.json'
# One JSON line per input, appended (and flushed) as each one is finished,
# so that a crash or a full disk loses nothing already computed.
RESULTS_LINES_FILE = 'results.jsonl'


def one_line(e: BaseException) -> str:
    """The first line of an exception's message (its type when empty)."""
    msg = str(e).strip()
    return msg.splitlines()[0] if msg else type(e).__name__


class ResultsNotSavedError(OSError):
    """``results.json`` could not be written (e.g. a full disk); the
    computed ``results`` are attached, and ``results.jsonl`` holds every
    line that could be written (``lines_written``)."""

    def __init__(self, errno_: Optional[int], cause: str, filename: str,
                 results: List[dict], lines_written: int) -> None:
        super().__init__(errno_, cause, filename)
        self.results = results
        self.lines_written = lines_written


class OutputDir:
    """The output folder of one inferencer call and the names used in it.

    Args:
        out_dir (str): The folder; ``results.json``, ``results.jsonl`` and
            ``vis/`` go in it.
        overwrite (bool): Replace existing results and reuse file names on
            disk. Defaults to False.
    """

    def __init__(self, out_dir: str, overwrite: bool = False) -> None:
        self.root = osp.abspath(out_dir)
        self.vis_dir = osp.join(self.root, 'vis')
        self.results_json = osp.join(self.root, RESULTS_FILE)
        self.results_lines = osp.join(self.root, RESULTS_LINES_FILE)
        self.overwrite = overwrite
        self._used: Set[str] = set()

    def prepare(self) -> None:
        """Refuse existing results unless overwriting; make ``vis/``.

        Raises:
            FileExistsError: ``results.json`` or ``results.jsonl`` exists
                and ``overwrite`` is False.
        """
        for path in (self.results_json, self.results_lines):
            if osp.exists(path) and not self.overwrite:
                raise FileExistsError(
                    f'{path} exists: choose another out_dir or pass '
                    'overwrite=True (--overwrite)')
        os.makedirs(self.vis_dir, exist_ok=True)

    def unique(self, name: str, ext: str, suffix: str = '') -> str:
        """A file name under the vis dir, unique in this run (and, unless
        overwriting, on disk): ``<stem><suffix>[_<n>]<ext>``."""
        stem = ''.join(c if c.isalnum() or c in '-_.' else '_'
                       for c in osp.splitext(osp.basename(name))[0]) or 'x'
        stem += suffix
        cand, n = f'{stem}{ext}', 1
        while cand in self._used or (
                not self.overwrite
                and osp.exists(osp.join(self.vis_dir, cand))):
            cand, n = f'{stem}_{n}{ext}', n + 1
        self._used.add(cand)
        return cand

    def vis_path(self, name: str, ext: str, suffix: str = '') -> str:
        """The path of :meth:`unique` under the vis dir."""
        return osp.join(self.vis_dir, self.unique(name, ext, suffix))

    def release(self, path: str) -> None:
        """Give back a name of :meth:`vis_path` that was not written."""
        self._used.discard(osp.basename(path))

    def rel(self, path: str) -> str:
        """``path`` relative to the folder, with ``/``."""
        return osp.relpath(path, self.root).replace(os.sep, '/')


class LineWriter:
    """Append results to a JSON-lines file in order, flushing each line; a
    failed write (a full disk) ends the file at its last complete line and
    stops it, not the run."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.done = 0  # results handed over
        self.written = 0  # complete lines in the file
        self.error: Optional[OSError] = None
        self._f = None
        self._size = 0  # bytes of the complete lines
        if path:
            try:
                self._f = open(path, 'w')
            except OSError as e:
                self.error = e

    def write_upto(self, results: List[dict], n: int) -> None:
        while self.done < n:
            if self._f is not None:
                line = json.dumps(to_json(results[self.done])) + '\n'
                try:
                    self._f.write(line)
                    self._f.flush()
                    self.written += 1
                    self._size = self._f.tell()
                except OSError as e:
                    self.error = e
                    self.close()
                    try:  # drop a half-written line
                        os.truncate(self.path, self._size)
                    except OSError:
                        pass
            self.done += 1

    def close(self) -> None:
        if self._f is not None:
            f, self._f = self._f, None
            try:
                f.close()
            except OSError as e:
                self.error = self.error or e


def to_json(result: dict) -> dict:
    """A result without its arrays (maps, overlay), ready for ``json``."""
    drop = ('map', 'map_fake', 'vis')

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if k not in drop}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
        return x

    out = clean(result)
    json.dumps(out)  # fail here, not half-way through the file
    return out


def save_results(path: str, meta: dict, results: List[dict],
                 lines: LineWriter) -> None:
    """Write ``results.json`` (``meta`` and the results without arrays)
    atomically.

    Raises:
        ResultsNotSavedError: It could not be written; the message says how
            many results ``lines`` holds.
    """
    try:
        atomic_write_json(
            path, dict(meta=meta, results=[to_json(r) for r in results]),
            overwrite=True)
    except OSError as e:
        where = (f'{lines.written} of {len(results)} results '
                 f'are in {lines.path}')
        if lines.error is not None:
            where += (' (it could not be written further: '
                      f'{one_line(lines.error)})')
        raise ResultsNotSavedError(
            e.errno, f'{e.strerror or one_line(e)} ({where})',
            path, results, lines.written) from e
