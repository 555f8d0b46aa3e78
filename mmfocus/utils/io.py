# Copyright (c) mmfocus contributors.
"""Atomic file writes: a killed process never leaves a half-written output."""
import json
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator

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
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


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
