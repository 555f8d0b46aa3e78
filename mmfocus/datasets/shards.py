# Copyright (c) mmfocus contributors.
"""Packed shards of pre-decoded faces and masks: memory-mapped ``.npy``.

Decoding a PNG crop costs more than copying its pixels. A *packed*
annotation keeps every field of its source annotation and adds, per entry,
where the decoded face (and its mask) lies in a shard:

* ``img_shard`` / ``img_shard_index``: a ``.npy`` file of shape
  ``(N, H, W, 3)``, uint8 BGR (what ``cv2.imread(path, IMREAD_COLOR)``
  gives) and the entry's row in it;
* ``mask_shard`` / ``mask_shard_index``: a ``.npy`` of shape ``(N, H, W)``
  holding the mask as
  :class:`~mmfocus.datasets.transforms.LoadManipulationMask` reads it
  (``IMREAD_UNCHANGED``, the first channel of a colour PNG), in the PNG's
  own dtype (uint8 or uint16: no precision is lost), or null for an entry
  without a mask.

Each shard holds at most ``faces_per_shard`` items of **one** shape and
dtype: faces of other sizes go to other shards, nothing is resized. A face
or mask file that several entries share (e.g. ``real_oversample``) is
stored once. ``img_path``, ``mask_path`` and ``pair_path`` stay in the
entries (provenance; ``pair_path`` is still read from its PNG by the map
tools). Every path of the packed annotation is relative to the folder it
is written to, which is its ``data_root``.

Files, for a source annotation ``<stem>.json`` packed into ``OUT``:
``OUT/<stem>.json`` (the packed annotation, written last),
``OUT/<stem>.shards.json`` (the manifest: per shard its kind, shape, dtype,
count, size in bytes and sha256) and ``OUT/<stem>.{faces,masks}.NNNNN.npy``.
Shards are written into a hidden staging folder of ``OUT`` and moved into
place when all are done, so a failed run leaves no partial shard and an
earlier pack is untouched unless ``overwrite`` is given (then its shards
are replaced one rename each and its annotation last: a run killed during
the renames leaves a mixed pack, which ``--verify`` reports; pack again).
A run killed by SIGKILL can leave its hidden ``.<stem>.packing-*`` staging
folder behind: it is never read and can be deleted.

Reading: :func:`read_shard_item` maps a shard with ``np.load(mmap_mode='r')``
the first time a process reads it and keeps the map (at most
:data:`MAX_OPEN_SHARDS` per process); a map made before a DataLoader forks
its workers stays valid in them, and a worker that starts fresh (spawn)
opens its own. A replaced shard file (another inode, size or mtime) is
mapped again.

Example:
    >>> from mmfocus.datasets.shards import pack_annotation
    >>> summary = pack_annotation('data/demo_faces/train.json',
    ...                           'data/demo_faces/packed')  # doctest: +SKIP
    >>> # FaceForgeryDataset(ann_file='train.json',
    >>> #                    data_root='data/demo_faces/packed', ...)
"""
import glob
import hashlib
import io
import os
import os.path as osp
import shutil
import tempfile
import time
from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from mmfocus.utils.io import (atomic_write, atomic_write_json, imread_checked,
                              load_json)
from .annotation import dump_annotation, load_annotation

__all__ = [
    'SHARD_VERSION', 'DEFAULT_FACES_PER_SHARD', 'MAX_OPEN_SHARDS',
    'pack_annotation', 'open_shard', 'read_shard_item', 'verify_shards',
    'manifest_path', 'is_packed', 'shard_refs'
]

#: The manifest's ``version``.
SHARD_VERSION = 1
#: Faces per shard: 4096 faces of 224 x 224 are a 617 MB shard.
DEFAULT_FACES_PER_SHARD = 4096
#: Shards a process keeps mapped (least recently read ones are unmapped).
MAX_OPEN_SHARDS = 128
#: Entry fields with file paths, rewritten relative to the output folder.
PATH_KEYS = ('img_path', 'mask_path', 'pair_path')
_KINDS = {
    # kind: (item ndim, allowed dtypes, the entry's shard / index keys)
    'faces': (3, ('uint8', ), 'img_shard', 'img_shard_index'),
    'masks': (2, ('uint8', 'uint16'), 'mask_shard', 'mask_shard_index'),
}


def manifest_path(ann_file: str) -> Optional[str]:
    """The manifest of a packed annotation (from its ``metainfo.shards``),
    or None for an annotation that is not packed."""
    ann = load_annotation(ann_file)
    shards = (ann.get('metainfo') or {}).get('shards')
    if not isinstance(shards, dict) or not shards.get('manifest'):
        return None
    return osp.join(osp.dirname(osp.abspath(ann_file)), shards['manifest'])


def is_packed(entry: dict) -> bool:
    """Whether an annotation entry (raw or parsed) refers to a shard."""
    return bool(entry.get('img_shard'))


# ------------------------------------------------------------------ #
# writing
# ------------------------------------------------------------------ #
def _decode(kind: str, path: str) -> np.ndarray:
    import cv2
    if kind == 'faces':
        return imread_checked(path, cv2.IMREAD_COLOR)
    mask = imread_checked(path, cv2.IMREAD_UNCHANGED)
    if mask.ndim == 3:  # as LoadManipulationMask: the first channel
        mask = mask[..., 0]
    if mask.dtype.name not in _KINDS['masks'][1]:
        raise ValueError(f'{path}: a {mask.dtype} mask; masks must be uint8 '
                         'or uint16 PNGs')
    return np.ascontiguousarray(mask)


class _ShardBuffer:
    """The items of one shard (one shape and dtype), spilled to an unnamed
    temporary file until the shard is written, so that packing holds one
    item in memory, not a shard."""

    def __init__(self, name: str, kind: str, item: np.ndarray, dir: str):
        self.name, self.kind = name, kind
        self.item_shape, self.dtype = tuple(item.shape), item.dtype
        self.count = 0
        self.spill = tempfile.TemporaryFile(dir=dir)

    def add(self, item: np.ndarray) -> int:
        self.spill.write(np.ascontiguousarray(item).tobytes())
        self.count += 1
        return self.count - 1

    def write(self, folder: str) -> dict:
        """Write ``folder/<name>`` (npy header + items); the manifest
        record."""
        shape = (self.count, ) + self.item_shape
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(head, dict(
            descr=np.lib.format.dtype_to_descr(self.dtype),
            fortran_order=False, shape=shape))
        sha = hashlib.sha256(head.getvalue())
        path = osp.join(folder, self.name)
        with open(path, 'wb') as f:
            f.write(head.getvalue())
            self.spill.seek(0)
            for chunk in iter(lambda: self.spill.read(1 << 22), b''):
                sha.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        self.spill.close()
        return dict(file=self.name, kind=self.kind, shape=list(shape),
                    dtype=self.dtype.name, count=self.count,
                    bytes=osp.getsize(path), sha256=sha.hexdigest())


class _Packer:
    """Assigns decoded items to shards of one shape and dtype each."""

    def __init__(self, stem: str, staging: str, faces_per_shard: int):
        self.stem, self.staging = stem, staging
        self.faces_per_shard = faces_per_shard
        self.open: Dict[Tuple, _ShardBuffer] = {}
        self.numbers = {kind: 0 for kind in _KINDS}
        self.records: List[dict] = []
        self.seen: Dict[Tuple[str, str], Tuple[str, int]] = {}

    def put(self, kind: str, path: str) -> Tuple[str, int]:
        key = (kind, osp.realpath(path))
        if key in self.seen:
            return self.seen[key]
        item = _decode(kind, path)
        group = (kind, item.shape, item.dtype.str)
        buf = self.open.get(group)
        if buf is None:
            name = f'{self.stem}.{kind}.{self.numbers[kind]:05d}.npy'
            self.numbers[kind] += 1
            buf = self.open[group] = _ShardBuffer(name, kind, item,
                                                  self.staging)
        ref = (buf.name, buf.add(item))
        if buf.count >= self.faces_per_shard:
            self.records.append(self.open.pop(group).write(self.staging))
        self.seen[key] = ref
        return ref

    def finish(self) -> List[dict]:
        for group in list(self.open):
            self.records.append(self.open.pop(group).write(self.staging))
        return sorted(self.records, key=lambda r: r['file'])

    def close(self) -> None:
        for buf in self.open.values():
            buf.spill.close()
        self.open.clear()


def _outputs(out_dir: str, stem: str) -> List[str]:
    found = [osp.join(out_dir, f'{stem}.json'),
             osp.join(out_dir, f'{stem}.shards.json')]
    found = [p for p in found if osp.exists(p)]
    for kind in _KINDS:
        found += sorted(glob.glob(osp.join(glob.escape(out_dir),
                                           f'{glob.escape(stem)}.{kind}.'
                                           '[0-9]*.npy')))
    return found


def _relative(path: Optional[str], data_root: str,
              out_dir: str) -> Optional[str]:
    if not path or osp.isabs(path):
        return path
    return osp.relpath(osp.join(data_root, path), out_dir)


def pack_annotation(ann_file: str,
                    out_dir: str,
                    data_root: Optional[str] = None,
                    faces_per_shard: int = DEFAULT_FACES_PER_SHARD,
                    overwrite: bool = False,
                    progress: bool = False) -> dict:
    """Pack the faces and masks of an annotation into shards.

    Writes ``out_dir/<stem>.json`` (the packed annotation: the source's
    entries with ``img_path`` / ``mask_path`` / ``pair_path`` relative to
    ``out_dir`` and the shard references added),
    ``out_dir/<stem>.shards.json`` (the manifest) and the shards; see the
    module docstring.

    Args:
        ann_file (str): A frame annotation (mmengine BaseDataset JSON).
        out_dir (str): Output folder; the packed annotation's data root.
        data_root (str, optional): The folder the annotation's paths are
            relative to. Defaults to the annotation's folder.
        faces_per_shard (int): Items per shard at most. Defaults to
            :data:`DEFAULT_FACES_PER_SHARD`.
        overwrite (bool): Replace an earlier pack of the same annotation in
            ``out_dir`` (its stale shards are removed). Defaults to False:
            ``FileExistsError`` naming the files.
        progress (bool): A progress bar. Defaults to False.

    Returns:
        dict: ``ann_file`` and ``manifest`` (the written paths),
        ``entries``, ``faces``, ``masks`` (distinct items packed),
        ``shards``, ``bytes`` and ``seconds``.
    """
    from tqdm import tqdm
    t0 = time.perf_counter()
    if int(faces_per_shard) < 1:
        raise ValueError(f'faces_per_shard must be >= 1, got '
                         f'{faces_per_shard}')
    faces_per_shard = int(faces_per_shard)
    ann = load_annotation(ann_file)
    ann_abs = osp.abspath(ann_file)
    data_root = osp.dirname(ann_abs) if data_root is None else data_root
    out_dir = osp.abspath(out_dir)
    stem = osp.splitext(osp.basename(ann_file))[0]
    out_ann = osp.join(out_dir, f'{stem}.json')
    if osp.exists(out_ann) and osp.samefile(out_ann, ann_abs):
        raise ValueError(f'{ann_file}: packing into {out_dir} would replace '
                         'the source annotation; use another output folder')
    data = ann['data_list']
    clips = [i for i, e in enumerate(data) if 'clip_paths' in e]
    if clips:
        raise ValueError(f'{ann_file}: a clip annotation (data_list['
                         f'{clips[0]}] has "clip_paths"); only frame '
                         'annotations are packed')
    packed = [i for i, e in enumerate(data) if is_packed(e)]
    if packed:
        raise ValueError(f'{ann_file}: already packed (data_list['
                         f'{packed[0]}] has "img_shard")')
    existing = _outputs(out_dir, stem)
    if existing and not overwrite:
        shown = ', '.join(existing[:3]) + (', ...' if len(existing) > 3
                                           else '')
        raise FileExistsError(f'refusing to overwrite an earlier pack of '
                              f'{stem} in {out_dir} ({shown}); pass '
                              '--overwrite (overwrite=True) to replace it')
    os.makedirs(out_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f'.{stem}.packing-', dir=out_dir)
    packer = _Packer(stem, staging, faces_per_shard)
    entries = []
    try:
        for entry in tqdm(data, desc=f'packing {stem}', unit='face',
                          disable=not progress, dynamic_ncols=True):
            new = dict(entry)
            for key in PATH_KEYS:
                if key in new:
                    new[key] = _relative(new[key], data_root, out_dir)
            src = osp.join(data_root, entry['img_path'])
            new['img_shard'], new['img_shard_index'] = packer.put('faces',
                                                                  src)
            ref = (None, None)
            if entry.get('mask_path'):
                ref = packer.put('masks',
                                 osp.join(data_root, entry['mask_path']))
            new['mask_shard'], new['mask_shard_index'] = ref
            entries.append(new)
        records = packer.finish()
        for rec in records:  # all shards are complete: move them in place
            os.replace(osp.join(staging, rec['file']),
                       osp.join(out_dir, rec['file']))
    except BaseException:
        packer.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    names = {rec['file'] for rec in records}
    for old in existing:  # stale shards of an earlier, larger pack
        if old.endswith('.npy') and osp.basename(old) not in names:
            os.remove(old)
    counts = {kind: sum(r['count'] for r in records if r['kind'] == kind)
              for kind in _KINDS}
    manifest = dict(
        version=SHARD_VERSION, source=osp.relpath(ann_abs, out_dir),
        faces_per_shard=faces_per_shard, entries=len(entries),
        faces=counts['faces'], masks=counts['masks'], shards=records)
    man_path = osp.join(out_dir, f'{stem}.shards.json')
    atomic_write_json(man_path, manifest)
    metainfo = dict(ann.get('metainfo') or {}, shards=dict(
        manifest=osp.basename(man_path), version=SHARD_VERSION,
        source=manifest['source']))
    atomic_write(out_ann, dump_annotation(metainfo, entries).encode())
    return dict(ann_file=out_ann, manifest=man_path, entries=len(entries),
                faces=counts['faces'], masks=counts['masks'],
                shards=len(records),
                bytes=int(sum(r['bytes'] for r in records)),
                seconds=time.perf_counter() - t0)


# ------------------------------------------------------------------ #
# reading
# ------------------------------------------------------------------ #
_OPEN: 'OrderedDict[str, Tuple[tuple, np.ndarray]]' = OrderedDict()


def _layout_error(path: str, kind: str, arr: np.ndarray) -> Optional[str]:
    ndim, dtypes = _KINDS[kind][:2]
    want = '(N, H, W, 3)' if kind == 'faces' else '(N, H, W)'
    if arr.ndim != ndim + 1 or arr.dtype.name not in dtypes or (
            kind == 'faces' and arr.shape[-1] != 3):
        return (f'{path}: a {kind} shard must be {want} '
                f'{" or ".join(dtypes)}, got shape {tuple(arr.shape)} '
                f'{arr.dtype}')
    return None


def _map(path: str) -> np.ndarray:
    try:
        return np.load(path, mmap_mode='r', allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f'corrupt or truncated shard {path}: {e} (pack it '
                         'again: tools/dataset_converters/pack_shards.py)'
                         ) from None


def open_shard(path: str, kind: str = 'faces') -> np.ndarray:
    """The memory map of a shard, made once per process (and again when
    the file was replaced).

    Args:
        path (str): The ``.npy`` shard.
        kind (str): ``'faces'`` or ``'masks'``, for the layout check.
            Defaults to ``'faces'``.

    Raises:
        FileNotFoundError: no such shard. ValueError: a truncated or
        corrupt file, or another layout than ``kind`` has.
    """
    if kind not in _KINDS:
        raise ValueError(f'kind must be one of {sorted(_KINDS)}, got '
                         f'{kind!r}')
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f'{kind} shard not found: {path}') from None
    sig = (st.st_ino, st.st_size, st.st_mtime_ns)
    cached = _OPEN.get(path)
    if cached is not None and cached[0] == sig:
        _OPEN.move_to_end(path)
        arr = cached[1]
    else:
        _OPEN.pop(path, None)  # a replaced file: never read the old map
        arr = _map(path)
        _OPEN[path] = (sig, arr)
        while len(_OPEN) > MAX_OPEN_SHARDS:
            _OPEN.popitem(last=False)
    err = _layout_error(path, kind, arr)
    if err:
        raise ValueError(err)
    return arr


def read_shard_item(path: str, index: int, kind: str = 'faces'
                    ) -> np.ndarray:
    """One face (H, W, 3 uint8 BGR) or mask (H, W) of a shard, copied out
    of the map (writable; the map stays read-only).

    Args:
        path (str): The shard (``img_shard`` / ``mask_shard``).
        index (int): The row (``img_shard_index`` / ``mask_shard_index``).
        kind (str): ``'faces'`` or ``'masks'``. Defaults to ``'faces'``.

    Raises:
        FileNotFoundError / ValueError: see :func:`open_shard`.
        IndexError: ``index`` is not a row of the shard.
    """
    arr = open_shard(path, kind)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise IndexError(f'{path}: shard index must be an integer, got '
                         f'{index!r}')
    if not 0 <= int(index) < len(arr):
        raise IndexError(f'{path}: index {index} out of range: the shard '
                         f'holds {len(arr)} {kind}')
    return np.array(arr[int(index)])


def verify_shards(manifest: str, checksum: bool = False,
                  files: Optional[Iterable[str]] = None) -> dict:
    """Check a pack's shards against its manifest.

    Every shard must exist, have the manifest's size and header (shape,
    dtype) and, with ``checksum``, its sha256 (this reads every byte; the
    size and header checks are one ``stat`` and one header read per shard).

    Args:
        manifest (str): ``<stem>.shards.json``.
        checksum (bool): Also compare the sha256. Defaults to False.
        files (Iterable[str], optional): Shard paths the annotation refers
            to; each must be listed in the manifest. Defaults to None.

    Returns:
        dict: The manifest.

    Raises:
        FileNotFoundError / ValueError: naming the first bad shard.
    """
    man = load_json(manifest, 'shard manifest')
    if not isinstance(man, dict) or not isinstance(man.get('shards'), list):
        raise ValueError(f'{manifest}: not a shard manifest (no "shards" '
                         'list)')
    root = osp.dirname(osp.abspath(manifest))
    listed = set()
    for rec in man['shards']:
        path = osp.join(root, rec['file'])
        listed.add(osp.realpath(path))
        if not osp.isfile(path):
            raise FileNotFoundError(f'{rec["kind"]} shard not found: {path} '
                                    f'(listed in {manifest})')
        size = osp.getsize(path)
        if size != rec['bytes']:
            raise ValueError(f'truncated or corrupt shard {path}: '
                             f'{size} bytes, the manifest {manifest} says '
                             f'{rec["bytes"]}')
        arr = _map(path)
        if list(arr.shape) != list(rec['shape']) or \
                arr.dtype.name != rec['dtype']:
            raise ValueError(f'{path}: shape {list(arr.shape)} {arr.dtype}, '
                             f'the manifest {manifest} says {rec["shape"]} '
                             f'{rec["dtype"]}')
        del arr
        if checksum and _sha256(path) != rec['sha256']:
            raise ValueError(f'corrupt shard {path}: its sha256 differs '
                             f'from the manifest {manifest}')
    for path in files or ():
        if osp.realpath(path) not in listed:
            raise ValueError(f'{path}: a shard the annotation refers to is '
                             f'not in the manifest {manifest}')
    return man


def _sha256(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 22), b''):
            sha.update(chunk)
    return sha.hexdigest()


def shard_refs(entries: Sequence[dict]) -> List[Tuple[str, str, int]]:
    """``(kind, shard, index)`` of every shard reference of the entries."""
    refs = []
    for e in entries:
        for kind, (_, _, key, idx_key) in _KINDS.items():
            if e.get(key):
                refs.append((kind, e[key], e.get(idx_key)))
    return refs
