# Copyright (c) mmfocus contributors.
"""File I/O: atomic writes (a killed process never leaves a half-written
output) and checked reads (one clear error naming the file)."""
import json
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional, Tuple

import numpy as np


@contextmanager
def atomic_open(path: str, mode: str = 'wb', overwrite: bool = True) -> Iterator:
    """Open a temporary file beside ``path`` and move it into place on success.

    Args:
        path (str): Final destination.
        mode (str): ``'wb'`` or ``'w'``. Defaults to ``'wb'``.
        overwrite (bool): If False and ``path`` exists, raise
            ``FileExistsError`` instead of replacing it. Defaults to True.
    """
    path = osp.abspath(path)
    if not overwrite and osp.exists(path):
        raise FileExistsError(f'refusing to overwrite existing file: {path}')
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.',
                               suffix='.tmp', dir=osp.dirname(path))
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException as e:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(e, OSError) and e.errno is not None and \
                e.filename in (None, tmp):
            # a full disk fails in write()/close() with no file name
            raise named_os_error(e, path) from e
        raise


def named_os_error(e: OSError, path: str, note: str = '') -> OSError:
    """``e`` with ``path`` as its file name (same errno, so the same
    subclass), for errors of ``write()``/``close()`` that name no file.

    Args:
        e (OSError): The original error.
        path (str): The file the caller was writing.
        note (str): Appended to the cause. Defaults to ``''``.

    Returns:
        OSError: e.g. ``OSError(28, 'No space left on device', path)``.
    """
    cause = e.strerror or str(e) or type(e).__name__
    return OSError(e.errno, cause + note, path)


class WriteFailures:
    """Count failed writes of optional outputs (maps, figures) so that a
    full disk does not abort the run that makes them; keep the first.

    Example:
        >>> failures = WriteFailures('map writes')
        >>> failures.attempt(atomic_save_image, 'maps/a.png', img)
        >>> if failures.count:
        ...     print(failures.summary())  # 3 map writes failed (first: ...)
    """

    def __init__(self, what: str = 'writes') -> None:
        self.what = what
        self.reset()

    def reset(self) -> None:
        """Forget earlier failures."""
        self.count = 0
        self.first: Optional[Tuple[str, OSError]] = None

    def attempt(self, fn: Callable, path: str, *args, **kwargs) -> bool:
        """``fn(path, *args, **kwargs)``; True on success. An ``OSError``
        (other than ``FileExistsError``, a refusal to overwrite) is
        counted instead of raised."""
        try:
            fn(path, *args, **kwargs)
            return True
        except FileExistsError:
            raise
        except OSError as e:
            self.count += 1
            if self.first is None:
                self.first = (path, e)
            return False

    def first_line(self) -> str:
        """``<path>: <cause>`` of the first failure."""
        if self.first is None:
            return ''
        path, e = self.first
        return f'{path}: {e.strerror or e}'

    def summary(self) -> str:
        """``N <what> failed (first: <path>: <cause>)``."""
        return f'{self.count} {self.what} failed (first: {self.first_line()})'


def atomic_write(path: str, data: bytes, overwrite: bool = True) -> None:
    """Write bytes to ``path`` atomically."""
    with atomic_open(path, 'wb', overwrite=overwrite) as f:
        f.write(data)


def atomic_write_json(path: str, obj: Any, overwrite: bool = True,
                      indent: int = 2) -> None:
    """Dump ``obj`` as JSON to ``path`` atomically."""
    with atomic_open(path, 'w', overwrite=overwrite) as f:
        json.dump(obj, f, indent=indent)


def atomic_save_image(path: str, img: np.ndarray,
                      overwrite: bool = True) -> None:
    """Encode ``img`` (BGR or grey uint8/uint16) by the file suffix and write
    it atomically."""
    import cv2
    ext = osp.splitext(path)[1] or '.png'
    ok, buf = cv2.imencode(ext, img)
    if not ok:
        raise ValueError(f'cv2 could not encode an image as {ext}: {path}')
    atomic_write(path, buf.tobytes(), overwrite=overwrite)


def imread_checked(path: str, flag: int = 1) -> np.ndarray:
    """Read an image with cv2, raising one clear error for a missing or
    corrupt file."""
    import cv2
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    buf = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(buf, flag) if buf.size else None
    if img is None:
        raise ValueError(f'corrupt or unreadable image: {path}')
    return img


def load_json(path: str, what: str = 'JSON file') -> Any:
    """Read a JSON file, raising one clear error for a missing or invalid
    file.

    Args:
        path (str): The file.
        what (str): What the file is, for the not-found error (e.g.
            ``'annotation file'``). Defaults to ``'JSON file'``.

    Returns:
        Any: The decoded JSON value.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from None


def peek_json(path: str) -> Any:
    """A JSON file's value, or None when it is missing, unreadable or not
    valid JSON (for probing files that may not be there; use
    :func:`load_json` where the file is required)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_json_lines(path: str) -> List[dict]:
    """Read a JSON-lines file of objects (e.g. mmengine's JSON log
    ``<timestamp>.json`` / ``vis_data/scalars.json``); blank lines are
    skipped.

    Args:
        path (str): The file.

    Returns:
        list[dict]: One dict per non-blank line.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'JSON log not found: {path}')
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError as e:
                raise ValueError(f'{path}:{n} is not a JSON log line '
                                 f'({e})') from None
            if not isinstance(rec, dict):
                raise ValueError(f'{path}:{n} is not a JSON object')
            records.append(rec)
    return records


def sample_name(img_path: str, data_root: Optional[str] = None) -> str:
    """A unique, flat file stem for a sample path (``real/x.png`` ->
    ``real__x``): how the map hook names its dumps and the report finds
    them."""
    rel = osp.relpath(img_path, data_root) if data_root else img_path
    rel = osp.splitext(rel)[0].replace('\\', '/').lstrip('./')
    return rel.replace('/', '__')
