# Copyright (c) mmfocus contributors.
"""Write map targets for a face-forgery annotation file.

One 8-bit PNG per fake frame (``round(map * 255)``) under
``<out_dir>/<source>/<img_path>.png`` and a new annotation file whose fakes'
``mask_path`` points to their maps. Real frames get no map: their
``mask_path`` is null, which ``LoadManipulationMask`` reads as the all-zero
target the paper uses for real faces.

Sources: the classes registered in ``MAP_SOURCES``
(:mod:`mmfocus.maps.sources`, :mod:`mmfocus.apis.map_sources`):

- ``focus``: the fused FoCus map (``pred_map`` of
  :func:`mmfocus.apis.inference_model`), resized bilinearly from the model
  input size to the crop size;
- ``ssim``: ``1 - SSIM`` against the frame's real twin (``pair_path``);
- ``pixdiff``: mean absolute difference / 255 against the twin;
- ``pixdiff-thr0.1``: the same, thresholded at 0.1;
- ``gradcam`` / ``scorecam``: GradCAM / ScoreCAM (``pytorch_grad_cam``) of
  the "fake" logit of a ViT detector (``configs/vit/``), on the last block's
  tokens (:mod:`mmfocus.maps.cam`, :mod:`mmfocus.apis.map_sources`);
- ``attention``: the -CARP FoCus map (``configs/focus/*_no-carp.py``): the
  last block's class-token self-attention, mean over heads.

Model maps lie in [0, 1] at the model input size (GradCAM / ScoreCAM
min-max normalised per image; FoCus and attention maps per branch on the
token grid) and are resized bilinearly to the crop size.

Several processes (``torchrun``, ``tools/dist_generate_maps.sh``): when
``torch.distributed`` is initialised, the fakes are split by rank (each map
is written by exactly one process), and after a barrier rank 0 writes the
annotation and the report.

Example:
    >>> from mmfocus.maps.generate import generate_maps
    >>> summary = generate_maps('data/demo_faces/train.json',
    ...                         'data/demo_faces', 'ssim',
    ...                         'data/demo_faces/maps')
    >>> summary['out_ann']
    '.../data/demo_faces/train_maps-ssim.json'
"""
import copy
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

from mmengine.dist import all_gather_object, barrier, get_dist_info
from tqdm import tqdm

from mmfocus.datasets.annotation import load_annotation
from mmfocus.utils.io import (atomic_save_image, atomic_write_json,
                              imread_checked)
from .sources import build_map_source, map_source_class, map_source_names


def comparison_map(source: str, fake: np.ndarray,
                   real: np.ndarray) -> np.ndarray:
    """A comparison map of ``fake`` against its real twin ``real``.

    Args:
        source (str): A source that needs the twin (``'ssim'``,
            ``'pixdiff'``, ``'pixdiff-thr0.1'``, ...).
        fake, real (np.ndarray): uint8 images of the same shape.

    Returns:
        np.ndarray: float32 ``HxW`` in [0, 1].
    """
    if not map_source_class(source).needs_twin:
        raise ValueError(f'not a comparison map source: {source!r} (one of '
                         f'{", ".join(map_source_names(needs_twin=True))})')
    return build_map_source(source).compute([fake], twins=[real])[0]


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


def _read(path: str) -> np.ndarray:
    return imread_checked(path, cv2.IMREAD_COLOR)


def _rel_to_root(path: str, data_root: str) -> str:
    """``path`` relative to ``data_root``, as the dataset converters write
    their paths (``../maps/x.png`` for maps outside the root), so that the
    data root and its maps can be moved together; absolute only where no
    relative path exists (another drive on Windows). Annotations written
    with absolute paths by older versions still load
    (:class:`~mmfocus.datasets.FaceForgeryDataset` joins an absolute path
    as itself)."""
    path, root = osp.abspath(path), osp.abspath(data_root)
    try:
        rel = osp.relpath(path, root)
    except ValueError:  # no relative path between them
        return path
    return rel.replace(osp.sep, '/')


def _twin(entry: dict, fake: np.ndarray, data_root: str,
          resized: List[str]) -> np.ndarray:
    """The real twin of a fake frame, resized to it (with a warning) where
    the sizes differ."""
    real = _read(osp.join(data_root, entry['pair_path']))
    if real.shape != fake.shape:
        warnings.warn(
            f'{entry["pair_path"]} ({real.shape[1]}x{real.shape[0]}) '
            f'differs in size from {entry["img_path"]} '
            f'({fake.shape[1]}x{fake.shape[0]}); resized bilinearly')
        resized.append(entry['img_path'])
        real = cv2.resize(real, (fake.shape[1], fake.shape[0]),
                          interpolation=cv2.INTER_LINEAR)
    return real


def read_pair(entry: dict, data_root: str) -> Tuple[np.ndarray,
                                                    Optional[np.ndarray]]:
    """A fake frame's crop and its real twin (resized to it where the
    sizes differ, with a warning), or ``(crop, None)`` without a
    ``pair_path``: what :func:`generate_maps` reads for each frame."""
    fake = _read(osp.join(data_root, entry['img_path']))
    if not entry.get('pair_path'):
        return fake, None
    return fake, _twin(entry, fake, data_root, [])


def clip_frames(entries: List[dict]):
    """``((i, t), frame entry)`` for every frame ``t`` of every clip entry
    ``i`` of a clip annotation (``clip_paths`` / ``clip_pair_paths``), so
    that the map sources, which work on frames, serve clips too."""
    for i, e in enumerate(entries):
        paths = e.get('clip_paths')
        if not paths:
            raise ValueError(f'entry {i} ({e.get("img_path")}) of a clip '
                             'annotation has no clip_paths')
        pairs = e.get('clip_pair_paths') or [None] * len(paths)
        if len(pairs) != len(paths):
            raise ValueError(f'clip {e.get("video_id")}: {len(paths)} '
                             f'frames but {len(pairs)} clip_pair_paths')
        for t, (img, pair) in enumerate(zip(paths, pairs)):
            yield (i, t), dict(img_path=img, pair_path=pair,
                               gt_label=e['gt_label'])


def generate_maps(ann_file: str,
                  data_root: str,
                  source,
                  out_dir: str,
                  out_ann: Optional[str] = None,
                  model=None,
                  batch_size: int = 16,
                  overwrite: bool = False,
                  drop_unmapped: bool = False,
                  progress: bool = True,
                  log: Callable[[str], None] = print,
                  target_layer: Optional[str] = None,
                  score_batch_size: int = 64,
                  amp: Optional[str] = None) -> Dict:
    """Write one map PNG per fake frame and the annotation pointing to them.

    A clip annotation (entries with ``clip_paths``, for video models) gets
    one map per frame of every fake clip, and each clip's
    ``clip_mask_paths`` point to them (null when a frame has no map).

    Resumable: a map PNG that exists is kept (every write is atomic, so an
    existing file is complete). Delete ``<out_dir>/<source>`` to recompute.

    Distributed: when ``torch.distributed`` is initialised (e.g. under
    ``torchrun``), fake ``j`` of the annotation (counting fakes only) is
    handled by rank ``j % world_size``, so every map is written exactly once;
    after a barrier, rank 0 checks that every map exists and writes the
    output annotation and ``report.json``; every rank returns the merged
    summary. Works with NCCL (GPUs) and gloo (CPU processes).

    Args:
        ann_file (str): Input annotation (a path, or relative to
            ``data_root``).
        data_root (str): Root of the annotation's relative paths.
        source (str | dict): A registered map source
            (:func:`~mmfocus.maps.sources.map_source_names`), or its config
            ``dict(type=name, **options)``.
        out_dir (str): Maps go to ``<out_dir>/<source>/<img_path>.png``.
        out_ann (str, optional): Output annotation. Defaults to
            :func:`default_out_ann`.
        model (nn.Module, optional): From :func:`mmfocus.apis.init_model`;
            required by the model sources: a FoCus for ``'focus'``, the
            -CARP FoCus (``map_source='attention'``) for ``'attention'``, a
            ViT classifier (``configs/vit/``) for ``'gradcam'`` /
            ``'scorecam'``.
        batch_size (int): Frames per forward pass (model sources).
            Defaults to 16.
        overwrite (bool): Replace an existing output annotation.
            Defaults to False.
        drop_unmapped (bool): Leave fakes that got no map (no
            ``pair_path``) out of the output annotation instead of keeping
            them with a null ``mask_path`` (an all-zero target).
            Defaults to False.
        progress (bool): Show a progress bar (rank 0). Defaults to True.
        log (callable): Where the summary lines go (rank 0).
            Defaults to print.
        target_layer (str, optional): ``'gradcam'`` / ``'scorecam'``: the
            module whose tokens are explained, e.g.
            ``'backbone.blocks.11.norm1'``. Defaults to None (the last
            block's ``norm1``). Same as ``source=dict(type='gradcam',
            target_layer=...)``.
        score_batch_size (int): ``'scorecam'``: masked images per forward
            pass. Defaults to 64.
        amp (str, optional): ``'bf16'`` / ``'fp16'``: model sources run
            under ``torch.autocast`` (see
            :meth:`~mmfocus.maps.sources.BaseMapSource.compute`; the
            written maps differ from fp32 ones by at most a few of the 255
            PNG levels, docs/en/useful_tools/benchmark.md). Defaults to
            None (fp32).

    Returns:
        dict: ``out_ann``, ``report`` (path of ``report.json``) and counts
        ``written``, ``skipped_existing``, ``real``, ``no_pair`` (list of
        img_paths), ``pair_resized`` (list of img_paths), ``world_size``,
        ``written_by_rank`` (maps written by each process).

    Raises:
        FileNotFoundError: the annotation, a frame or its twin is missing
            (the message names the file).
        FileExistsError: the output annotation exists and not ``overwrite``.
        ValueError: unknown source, no (or the wrong) model for a model
            source, a bad entry.
    """
    options = {}  # the CAM options, given only where set
    if target_layer is not None:
        options['target_layer'] = target_layer
    if score_batch_size != 64:
        options['score_batch_size'] = score_batch_size
    src = build_map_source(source, **options)
    source = src.name
    if src.needs_model:
        src.check_model(model)
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    rank, world_size = get_dist_info()
    ann_path = _resolve_ann(ann_file, data_root)
    out_ann = out_ann or default_out_ann(ann_path, data_root, source)
    if osp.abspath(out_ann) == osp.abspath(ann_path):
        raise ValueError(f'the output annotation would replace the input: '
                         f'{out_ann}')
    if osp.exists(out_ann) and not overwrite:
        raise FileExistsError(f'output annotation exists: {out_ann} (pass '
                              '--overwrite to replace it)')
    ann = load_annotation(ann_path)
    entries = ann['data_list']
    clips = any('clip_paths' in e for e in entries)

    # Plan: (key, entry, map file) for each fake frame (key = entry index,
    # or (entry index, frame) for a clip annotation); reals get nothing.
    # The plan is the same on every rank (made before any write); each rank
    # then handles its share and looks only at its own files.
    planned: Dict[object, str] = {}
    todo: List[tuple] = []
    no_pair: List[str] = []
    n_real = n_existing = 0
    for key, e in (clip_frames(entries) if clips else enumerate(entries)):
        if int(e['gt_label']) == 0:
            n_real += 1
            continue
        if src.needs_twin and not e.get('pair_path'):
            no_pair.append(e['img_path'])
            continue
        dst = map_file(out_dir, source, e['img_path'])
        mine = len(planned) % world_size == rank
        planned[key] = dst
        if not mine:
            continue
        if osp.isfile(dst):
            n_existing += 1
        else:
            todo.append((key, e, dst))

    resized: List[str] = []
    bar = tqdm(total=len(todo), desc=f'maps ({source})', unit='frame',
               disable=not progress or rank != 0)
    try:
        step = batch_size if src.needs_model else 1
        for start in range(0, len(todo), step):
            chunk = todo[start:start + step]
            imgs = [_read(osp.join(data_root, e['img_path']))
                    for _, e, _ in chunk]
            twins = None
            if src.needs_twin:
                twins = [_twin(e, fake, data_root, resized)
                         for (_, e, _), fake in zip(chunk, imgs)]
            maps = src.compute(imgs, twins=twins, model=model,
                               batch_size=batch_size, amp=amp)
            for (i, _, dst), m in zip(chunk, maps):
                atomic_save_image(dst, map_to_uint8(m))
            bar.update(len(chunk))
    finally:
        bar.close()

    n_written = len(todo)
    by_rank = [n_written]
    if world_size > 1:
        barrier()  # every rank's maps are on disk
        parts = all_gather_object(
            dict(written=n_written, existing=n_existing, resized=resized))
        by_rank = [p['written'] for p in parts]
        n_written = sum(by_rank)
        n_existing = sum(p['existing'] for p in parts)
        resized = sorted(r for p in parts for r in p['resized'])

    report_path = osp.join(out_dir, source, 'report.json')
    summary = dict(source=source, ann_file=ann_path, out_ann=out_ann,
                   report=report_path, frames=len(entries), real=n_real,
                   written=n_written, skipped_existing=n_existing,
                   no_pair=no_pair, pair_resized=resized,
                   dropped=len(no_pair) if drop_unmapped else 0,
                   world_size=world_size, written_by_rank=by_rank)
    if rank == 0:
        missing = [p for p in planned.values() if not osp.isfile(p)]
        if missing:
            raise FileNotFoundError(f'{len(missing)} map(s) were not written, '
                                    f'e.g. {missing[0]}')
        out_entries = []
        for i, e in enumerate(entries):
            e = copy.deepcopy(e)
            if clips:
                keys = [(i, t) for t in range(len(e['clip_paths']))]
                mapped = all(k in planned for k in keys)
                e['clip_mask_paths'] = [
                    _rel_to_root(planned[k], data_root) for k in keys
                ] if mapped else None
            elif i in planned:
                mapped = True
                e['mask_path'] = _rel_to_root(planned[i], data_root)
            else:
                mapped = False
                e['mask_path'] = None
            if not mapped and int(e['gt_label']) == 1 and drop_unmapped:
                continue
            out_entries.append(e)
        metainfo = dict(ann.get('metainfo') or {})
        metainfo['target_maps'] = dict(source=source,
                                       from_ann=osp.basename(ann_path))
        atomic_write_json(out_ann, dict(metainfo=metainfo,
                                        data_list=out_entries),
                          overwrite=overwrite)
        atomic_write_json(report_path, summary, overwrite=True)
        _log_summary(summary, drop_unmapped, log)
    if world_size > 1:
        barrier()  # the annotation exists when any rank returns
    return summary


def _log_summary(summary: dict, drop_unmapped: bool,
                 log: Callable[[str], None]) -> None:
    source, no_pair = summary['source'], summary['no_pair']
    procs = (f' by {summary["world_size"]} processes'
             if summary['world_size'] > 1 else '')
    log(f'{source}: {summary["frames"]} frames, {summary["real"]} real (no '
        f'map, zero target), {summary["written"]} maps written{procs}, '
        f'{summary["skipped_existing"]} already there')
    if no_pair:
        shown = ', '.join(no_pair[:10]) + (' ...' if len(no_pair) > 10
                                          else '')
        what = 'left out of' if drop_unmapped else 'kept (zero target) in'
        log(f'{len(no_pair)} fake frame(s) without pair_path got no map and '
            f'are {what} the annotation: {shown}')
    if summary['pair_resized']:
        log(f'{len(summary["pair_resized"])} real twin(s) resized to their '
            'fake frame')
    log(f'annotation: {summary["out_ann"]}; report: {summary["report"]}')
