# Copyright (c) mmfocus contributors.
"""Write map targets for a face-forgery annotation file.

One 8-bit PNG per fake frame (``round(map * 255)``) under
``<out_dir>/<source>/<img_path>.png`` and a new annotation file whose fakes'
``mask_path`` points to their maps. Real frames get no map: their
``mask_path`` is null, which ``LoadManipulationMask`` reads as the all-zero
target the paper uses for real faces.

Sources:

- ``focus``: the fused FoCus map (``pred_map`` of
  :func:`mmfocus.apis.inference_model`), resized bilinearly from the model
  input size to the crop size;
- ``ssim``: ``1 - SSIM`` against the frame's real twin (``pair_path``);
- ``pixdiff``: mean absolute difference / 255 against the twin;
- ``pixdiff-thr0.1``: the same, thresholded at 0.1.

Example:
    >>> from mmfocus.maps.generate import generate_maps
    >>> summary = generate_maps('data/demo_faces/train.json',
    ...                         'data/demo_faces', 'ssim',
    ...                         'data/demo_faces/maps')
    >>> summary['out_ann']
    '.../data/demo_faces/train_maps-ssim.json'
"""
import copy
import json
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np

from .comparison import pixel_diff_map, ssim_map

SOURCES = ('focus', 'ssim', 'pixdiff', 'pixdiff-thr0.1')
COMPARISON_SOURCES = ('ssim', 'pixdiff', 'pixdiff-thr0.1')


def comparison_map(source: str, fake: np.ndarray,
                   real: np.ndarray) -> np.ndarray:
    """A comparison map of ``fake`` against its real twin ``real``.

    Args:
        source (str): ``'ssim'``, ``'pixdiff'`` or ``'pixdiff-thr0.1'``.
        fake, real (np.ndarray): uint8 images of the same shape.

    Returns:
        np.ndarray: float32 ``HxW`` in [0, 1].
    """
    if source == 'ssim':
        return ssim_map(fake, real)
    if source == 'pixdiff':
        return pixel_diff_map(fake, real)
    if source == 'pixdiff-thr0.1':
        return pixel_diff_map(fake, real, thr=0.1)
    raise ValueError(f'not a comparison map source: {source!r} (one of '
                     f'{", ".join(COMPARISON_SOURCES)})')


def map_to_uint8(m: np.ndarray) -> np.ndarray:
    """``round(clip(map, 0, 1) * 255)`` as uint8 (the PNG's pixels)."""
    m = np.nan_to_num(np.asarray(m, np.float32))
    return np.round(np.clip(m, 0., 1.) * 255.).astype(np.uint8)


def map_file(out_dir: str, source: str, img_path: str) -> str:
    """``<out_dir>/<source>/<img_path>.png`` (``img_path`` relative)."""
    if osp.isabs(img_path) or '..' in img_path.replace('\\', '/').split('/'):
        raise ValueError(f'img_path must be relative to the data root and '
                         f'stay inside it: {img_path}')
    return osp.join(out_dir, source, img_path + '.png')


def default_out_ann(ann_file: str, data_root: str, source: str) -> str:
    """``<data_root>/<ann stem>_maps-<source>.json``, e.g.
    ``train_maps-ssim.json`` for ``train.json`` (the name the multitask
    configs read from the data root)."""
    stem = osp.splitext(osp.basename(ann_file))[0]
    return osp.join(data_root, f'{stem}_maps-{source}.json')


def _resolve_ann(ann_file: str, data_root: str) -> str:
    if osp.isfile(ann_file):
        return ann_file
    joined = osp.join(data_root, ann_file)
    if not osp.isabs(ann_file) and osp.isfile(joined):
        return joined
    raise FileNotFoundError(f'annotation file not found: {ann_file}')


def _load_ann(path: str) -> dict:
    try:
        with open(path) as f:
            ann = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from None
    if not isinstance(ann, dict) or not isinstance(ann.get('data_list'),
                                                   list):
        raise ValueError(f'{path}: expected {{"metainfo": ..., "data_list": '
                         '[...]}} (mmengine BaseDataset format)')
    for i, entry in enumerate(ann['data_list']):
        for key in ('img_path', 'gt_label'):
            if not isinstance(entry, dict) or key not in entry:
                raise KeyError(f'{path}: data_list[{i}] has no "{key}"')
        if int(entry['gt_label']) not in (0, 1):
            raise ValueError(f'{path}: data_list[{i}] gt_label must be 0 or '
                             f'1, got {entry["gt_label"]}')
    return ann


def _read(path: str) -> np.ndarray:
    from mmfocus.utils.io import imread_checked
    return imread_checked(path, cv2.IMREAD_COLOR)


def _rel_to_root(path: str, data_root: str) -> str:
    """``path`` relative to ``data_root`` when inside it, else absolute."""
    path, root = osp.abspath(path), osp.abspath(data_root)
    rel = osp.relpath(path, root)
    if rel.split(osp.sep)[0] == '..':
        return path
    return rel.replace(osp.sep, '/')


def generate_maps(ann_file: str,
                  data_root: str,
                  source: str,
                  out_dir: str,
                  out_ann: Optional[str] = None,
                  model=None,
                  batch_size: int = 16,
                  overwrite: bool = False,
                  drop_unmapped: bool = False,
                  progress: bool = True,
                  log: Callable[[str], None] = print) -> Dict:
    """Write one map PNG per fake frame and the annotation pointing to them.

    Resumable: a map PNG that exists is kept (every write is atomic, so an
    existing file is complete). Delete ``<out_dir>/<source>`` to recompute.

    Args:
        ann_file (str): Input annotation (a path, or relative to
            ``data_root``).
        data_root (str): Root of the annotation's relative paths.
        source (str): One of :data:`SOURCES`.
        out_dir (str): Maps go to ``<out_dir>/<source>/<img_path>.png``.
        out_ann (str, optional): Output annotation. Defaults to
            :func:`default_out_ann`.
        model (nn.Module, optional): A FoCus model from
            :func:`mmfocus.apis.init_model`; required for ``'focus'``.
        batch_size (int): Frames per forward pass (``'focus'``).
            Defaults to 16.
        overwrite (bool): Replace an existing output annotation.
            Defaults to False.
        drop_unmapped (bool): Leave fakes that got no map (no
            ``pair_path``) out of the output annotation instead of keeping
            them with a null ``mask_path`` (an all-zero target).
            Defaults to False.
        progress (bool): Show a progress bar. Defaults to True.
        log (callable): Where the summary lines go. Defaults to print.

    Returns:
        dict: ``out_ann``, ``report`` (path of ``report.json``) and counts
        ``written``, ``skipped_existing``, ``real``, ``no_pair`` (list of
        img_paths), ``pair_resized`` (list of img_paths).

    Raises:
        FileNotFoundError: the annotation, a frame or its twin is missing
            (the message names the file).
        FileExistsError: the output annotation exists and not ``overwrite``.
        ValueError: unknown source, no model for ``'focus'``, a bad entry.
    """
    from mmfocus.utils.io import atomic_save_image, atomic_write_json
    if source not in SOURCES:
        raise ValueError(f'unknown map source {source!r}; one of '
                         f'{", ".join(SOURCES)}')
    if source == 'focus' and model is None:
        raise ValueError('source "focus" needs a model (--config and '
                         '--checkpoint)')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    ann_path = _resolve_ann(ann_file, data_root)
    out_ann = out_ann or default_out_ann(ann_path, data_root, source)
    if osp.abspath(out_ann) == osp.abspath(ann_path):
        raise ValueError(f'the output annotation would replace the input: '
                         f'{out_ann}')
    if osp.exists(out_ann) and not overwrite:
        raise FileExistsError(f'output annotation exists: {out_ann} (pass '
                              '--overwrite to replace it)')
    ann = _load_ann(ann_path)
    entries = ann['data_list']

    # Plan: (index, img_path, map file) for each fake; reals get nothing.
    todo: List[tuple] = []
    done: Dict[int, str] = {}
    no_pair: List[str] = []
    n_real = n_existing = 0
    for i, e in enumerate(entries):
        if int(e['gt_label']) == 0:
            n_real += 1
            continue
        if source in COMPARISON_SOURCES and not e.get('pair_path'):
            no_pair.append(e['img_path'])
            continue
        dst = map_file(out_dir, source, e['img_path'])
        if osp.isfile(dst):
            n_existing += 1
            done[i] = dst
        else:
            todo.append((i, e, dst))

    from tqdm import tqdm
    resized: List[str] = []
    bar = tqdm(total=len(todo), desc=f'maps ({source})', unit='frame',
               disable=not progress)
    try:
        step = batch_size if source == 'focus' else 1
        for start in range(0, len(todo), step):
            chunk = todo[start:start + step]
            imgs = [_read(osp.join(data_root, e['img_path']))
                    for _, e, _ in chunk]
            if source == 'focus':
                maps = _focus_maps(model, imgs, batch_size)
            else:
                (i, e, _), fake = chunk[0], imgs[0]
                real = _read(osp.join(data_root, e['pair_path']))
                if real.shape != fake.shape:
                    warnings.warn(
                        f'{e["pair_path"]} ({real.shape[1]}x{real.shape[0]}) '
                        f'differs in size from {e["img_path"]} '
                        f'({fake.shape[1]}x{fake.shape[0]}); resized '
                        'bilinearly')
                    resized.append(e['img_path'])
                    real = cv2.resize(real, (fake.shape[1], fake.shape[0]),
                                      interpolation=cv2.INTER_LINEAR)
                maps = [comparison_map(source, fake, real)]
            for (i, _, dst), m in zip(chunk, maps):
                atomic_save_image(dst, map_to_uint8(m))
                done[i] = dst
            bar.update(len(chunk))
    finally:
        bar.close()

    out_entries = []
    for i, e in enumerate(entries):
        e = copy.deepcopy(e)
        if i in done:
            e['mask_path'] = _rel_to_root(done[i], data_root)
        else:
            e['mask_path'] = None
            if int(e['gt_label']) == 1 and drop_unmapped:
                continue
        out_entries.append(e)
    metainfo = dict(ann.get('metainfo') or {})
    metainfo['target_maps'] = dict(source=source,
                                   from_ann=osp.basename(ann_path))
    atomic_write_json(out_ann, dict(metainfo=metainfo,
                                    data_list=out_entries),
                      overwrite=overwrite)
    report_path = osp.join(out_dir, source, 'report.json')
    summary = dict(source=source, ann_file=ann_path, out_ann=out_ann,
                   report=report_path, frames=len(entries), real=n_real,
                   written=len(todo), skipped_existing=n_existing,
                   no_pair=no_pair, pair_resized=resized,
                   dropped=len(no_pair) if drop_unmapped else 0)
    atomic_write_json(report_path, summary)
    log(f'{source}: {len(entries)} frames, {n_real} real (no map, zero '
        f'target), {len(todo)} maps written, {n_existing} already there')
    if no_pair:
        shown = ', '.join(no_pair[:10]) + (' ...' if len(no_pair) > 10
                                          else '')
        what = 'left out of' if drop_unmapped else 'kept (zero target) in'
        log(f'{len(no_pair)} fake frame(s) without pair_path got no map and '
            f'are {what} the annotation: {shown}')
    if resized:
        log(f'{len(resized)} real twin(s) resized to their fake frame')
    log(f'annotation: {out_ann}; report: {report_path}')
    return summary


def _focus_maps(model, imgs: Sequence[np.ndarray],
                batch_size: int) -> List[np.ndarray]:
    """Fused FoCus maps of ``imgs``, resized bilinearly to each crop."""
    from mmfocus.apis.inference import inference_model
    out = []
    for img, ds in zip(imgs, inference_model(model, list(imgs),
                                             batch_size=batch_size)):
        m = ds.pred_map
        m = (m.numpy() if hasattr(m, 'numpy') else np.asarray(m))
        m = np.asarray(m, np.float32).squeeze()
        h, w = img.shape[:2]
        if m.shape != (h, w):
            m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
        out.append(m)
    return out
