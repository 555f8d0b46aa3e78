"""Test-only: a full disk for chosen files (import it through a config's
``custom_imports``, or call :func:`install`).

``MMFOCUS_TEST_DISK_FULL`` holds comma-separated substrings of paths; a
write to a matching path writes half its bytes, then fails with
``OSError(ENOSPC)`` and no file name, as ``write()`` does on a full disk.
Patched writers: mmengine's ``LocalBackend.put`` (checkpoints) and
``mmfocus.utils.io.atomic_write`` (maps, figures, crops, JSON).
"""
import errno
import os

import mmfocus.utils.io as mmfocus_io
from mmengine.fileio.backends import local_backend

ENV = 'MMFOCUS_TEST_DISK_FULL'
_real_put = local_backend.LocalBackend.put
_real_atomic_write = mmfocus_io.atomic_write


def hits(path) -> bool:
    """Whether a write to ``path`` finds the disk full."""
    words = [w for w in os.environ.get(ENV, '').split(',') if w]
    return any(w in str(path) for w in words)


def _full() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def put(self, obj, filepath):
    if not hits(filepath):
        return _real_put(self, obj, filepath)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
    raise _full()


def atomic_write(path, data, overwrite=True):
    if not hits(path):
        return _real_atomic_write(path, data, overwrite=overwrite)
    with mmfocus_io.atomic_open(path, 'wb', overwrite=overwrite) as f:
        f.write(data[:len(data) // 2])
        raise _full()


def install() -> None:
    local_backend.LocalBackend.put = put
    mmfocus_io.atomic_write = atomic_write


install()
