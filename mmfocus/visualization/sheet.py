# Copyright (c) mmfocus contributors.
"""Per-sample map comparison sheets (the paper's Fig. 5 / 7).

One row per sample, one column per map: ``face | true mask | <source> ...``.
A map source is either

- an annotation written by ``tools/generate_maps.py`` (each frame's
  ``mask_path`` points to an 8-bit PNG map; reals have none, i.e. the
  all-zero target): :class:`AnnotationMaps`; or
- any column object with a ``name`` and ``cells(entries, faces)``, e.g. a
  trained FoCus run live (:class:`mmfocus.apis.figures.ModelMaps`; the
  config-level :func:`mmfocus.apis.figures.map_sheet` builds them from
  ``models={title: (config, checkpoint)}``).

Each map is drawn as a heat-map with :func:`mmfocus.visualization.overlay_map`
(``alpha=1``: the colour map alone; lower: over the face). Values are shown
as they are (no per-map normalisation), so columns compare directly.

Example:
    >>> from mmfocus.visualization.sheet import map_sheet
    >>> map_sheet('data/demo_faces/train.json', 'work_dirs/sheet.png',
    ...           maps={'SSIM': 'data/demo_faces/train_maps-ssim.json'},
    ...           num=6, with_real=True)
"""
import os.path as osp
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfocus.datasets.annotation import load_annotation
from mmfocus.utils.io import (atomic_save_image, atomic_write_json,
                              imread_checked)
from .overlay import overlay_map

# How the face is resized to a tile (tests compare against cv2.resize).
FACE_INTERP = cv2.INTER_LINEAR
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_NA_GREY = 200

Cell = Tuple[Optional[np.ndarray], str]  # (map in [0, 1] or None, caption)


@dataclass
class SheetLayout:
    """Pixel geometry of a sheet.

    The sheet is ``gap + cols * (tile + gap)`` pixels wide and
    ``title_h + rows * (tile + caption_h + gap)`` high: a title band, then
    per row the tiles and a caption line under them.

    Args:
        tile (int): Side of each square tile. Defaults to 128.
        gap (int): Space between tiles (and at the left, right and bottom
            edges). Defaults to 4.
        title_h (int): Height of the column-title band. Defaults to 22.
        caption_h (int): Height of the caption line under each row.
            Defaults to 16.
    """
    tile: int = 128
    gap: int = 4
    title_h: int = 22
    caption_h: int = 16

    def size(self, rows: int, cols: int) -> Tuple[int, int]:
        """``(height, width)`` of a sheet."""
        return (self.title_h + rows * (self.tile + self.caption_h + self.gap),
                self.gap + cols * (self.tile + self.gap))

    def origin(self, row: int, col: int) -> Tuple[int, int]:
        """``(y, x)`` of the top-left pixel of a tile."""
        return (self.title_h + row * (self.tile + self.caption_h + self.gap),
                self.gap + col * (self.tile + self.gap))


def read_map(path: str, what: str = 'map') -> np.ndarray:
    """A map/mask image as float32 ``HxW`` in [0, 1] (8-bit / 255, 16-bit
    / 65535; the first channel of a colour file).

    Raises:
        FileNotFoundError: naming the file (and ``what`` it is).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} file not found: {path}')
    m = imread_checked(path, cv2.IMREAD_UNCHANGED)
    if m.ndim == 3:
        m = m[..., 0]
    scale = 65535. if m.dtype == np.uint16 else 255.
    return m.astype(np.float32) / scale


def _key(img_path: str) -> str:
    return osp.normpath(img_path).replace('\\', '/')


def _resolve(path: str, root: str) -> str:
    return path if osp.isabs(path) else osp.join(root, path)


class AnnotationMaps:
    """Maps listed in an annotation (``mask_path`` of each frame).

    Args:
        name (str): Column title.
        ann_file (str): Annotation whose ``mask_path`` point to the maps
            (e.g. ``train_maps-ssim.json`` of ``tools/generate_maps.py``).
        data_root (str): Root of its relative paths.
    """

    def __init__(self, name: str, ann_file: str, data_root: str) -> None:
        self.name = name
        self.ann_file = ann_file
        self.data_root = data_root
        ann = load_annotation(ann_file)
        self.index = {_key(e['img_path']): e for e in ann['data_list']}

    def cells(self, entries: Sequence[dict],
              faces: Sequence[np.ndarray]) -> List[Cell]:
        """One ``(map, caption)`` per entry; a real frame without a map
        gets the all-zero target, a fake without one (or a frame the
        annotation does not list) no map (None).

        Raises:
            FileNotFoundError: a listed map file is missing (named).
        """
        out: List[Cell] = []
        for e, face in zip(entries, faces):
            hit = self.index.get(_key(e['img_path']))
            if hit is None:
                out.append((None, 'not listed'))
            elif hit.get('mask_path'):
                path = _resolve(hit['mask_path'], self.data_root)
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'map file not found: {path} (source {self.name!r}, '
                        f'listed in {self.ann_file})')
                out.append((read_map(path), ''))
            elif int(hit['gt_label']) == 0:
                out.append((np.zeros(face.shape[:2], np.float32), ''))
            else:
                out.append((None, 'no map'))
        return out


def parse_spec(spec: str, what: str) -> Tuple[str, str]:
    """``'name=value'`` -> ``(name, value)``."""
    name, sep, value = spec.partition('=')
    if not sep or not name or not value:
        raise ValueError(f'{what} must be NAME=VALUE, got {spec!r}')
    return name, value


def parse_model_spec(value: str) -> Tuple[str, str]:
    """``'<cfg>:<ckpt>'`` -> ``(cfg, ckpt)`` (split at the last colon)."""
    cfg, sep, ckpt = value.rpartition(':')
    if not sep or not cfg or not ckpt:
        raise ValueError(f'--model needs NAME=CONFIG:CHECKPOINT, got '
                         f'{value!r}')
    return cfg, ckpt


def select_samples(entries: Sequence[dict],
                   images: Optional[Sequence[str]] = None,
                   num: int = 4,
                   seed: int = 0,
                   with_real: bool = False,
                   log: Callable[[str], None] = print) -> List[dict]:
    """The sheet's rows.

    Args:
        entries (Sequence[dict]): The annotation's ``data_list``.
        images (Sequence[str], optional): Explicit rows: each an
            ``img_path`` or a file name (its first match). Defaults to None.
        num (int): Otherwise, this many fakes drawn at random (``seed``),
            kept in annotation order. Defaults to 4.
        seed (int): Defaults to 0.
        with_real (bool): Add each fake's real twin (``pair_path``) right
            after it. Defaults to False.
        log (callable): Defaults to print.

    Raises:
        KeyError: a named image is not in the annotation.
        ValueError: no fake to draw from, or ``num < 1``.
    """
    if images:
        rows = []
        for name in images:
            hit = [e for e in entries if _key(e['img_path']) == _key(name)]
            hit = hit or [e for e in entries
                          if osp.basename(e['img_path']) == name]
            if not hit:
                raise KeyError(f'image not in the annotation: {name}')
            rows.append(hit[0])
    else:
        if num < 1:
            raise ValueError(f'--num must be >= 1, got {num}')
        fakes = [i for i, e in enumerate(entries) if int(e['gt_label']) == 1]
        if not fakes:
            raise ValueError('the annotation has no fake frame to show '
                             '(name rows with --images)')
        if num < len(fakes):
            rng = np.random.default_rng(seed)
            fakes = sorted(rng.choice(fakes, size=num, replace=False).tolist())
        rows = [entries[i] for i in fakes]
    if not with_real:
        return list(rows)
    by_path = {_key(e['img_path']): e for e in entries}
    out, unpaired = [], []
    for e in rows:
        out.append(e)
        if int(e['gt_label']) == 1:
            if not e.get('pair_path'):
                unpaired.append(e['img_path'])
                continue
            twin = by_path.get(_key(e['pair_path'])) or dict(
                img_path=e['pair_path'], gt_label=0, method='real',
                mask_path=None, pair_path=None)
            out.append(twin)
    if unpaired:
        log(f'{len(unpaired)} fake(s) without pair_path have no real twin '
            f'row: {", ".join(unpaired[:5])}')
    return out


def _fit_text(text: str, width: int, max_scale: float = 0.45
              ) -> Tuple[str, float]:
    """Scale (down to 0.3) and, if still too wide, shorten ``text``."""
    scale = max_scale
    while scale > 0.3 and cv2.getTextSize(text, _FONT, scale, 1)[0][0] > \
            width:
        scale -= 0.05
    while len(text) > 3 and cv2.getTextSize(text, _FONT, scale,
                                            1)[0][0] > width:
        text = text[:-3] + '..'
    return text, scale


def _put_text(canvas: np.ndarray, text: str, x: int, y: int, w: int,
              h: int) -> None:
    """Draw ``text`` centred in the box ``(x, y, w, h)``."""
    if not text:
        return
    text, scale = _fit_text(text, w - 2)
    (tw, th), _ = cv2.getTextSize(text, _FONT, scale, 1)
    org = (x + max(0, (w - tw) // 2), y + (h + th) // 2)
    cv2.putText(canvas, text, org, _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


def face_tile(face: np.ndarray, tile: int) -> np.ndarray:
    """The face resized to ``tile x tile`` (``FACE_INTERP``)."""
    return cv2.resize(face, (tile, tile), interpolation=FACE_INTERP)


def render_sheet(faces: Sequence[np.ndarray],
                 row_captions: Sequence[str],
                 columns: Sequence[Tuple[str, Sequence[Cell]]],
                 layout: Optional[SheetLayout] = None,
                 alpha: float = 1.0) -> np.ndarray:
    """Draw the sheet as a BGR uint8 image.

    Args:
        faces (Sequence[np.ndarray]): BGR faces, one per row.
        row_captions (Sequence[str]): Caption under each face.
        columns (Sequence[tuple]): ``(title, cells)`` per map column,
            ``cells[row] = (map or None, caption)``; None draws a grey
            "n/a" tile.
        layout (SheetLayout, optional): Defaults to ``SheetLayout()``.
        alpha (float): Heat-map opacity over the face (1: the heat-map
            alone). Defaults to 1.
    """
    lay = layout or SheetLayout()
    if not 0. <= alpha <= 1.:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    rows, cols = len(faces), 1 + len(columns)
    H, W = lay.size(rows, cols)
    canvas = np.full((H, W, 3), 255, np.uint8)
    t = lay.tile
    titles = ['face'] + [c[0] for c in columns]
    for c, title in enumerate(titles):
        _, x = lay.origin(0, c)
        _put_text(canvas, title, x, 0, t, lay.title_h)
    for r, face in enumerate(faces):
        ft = face_tile(face, t)
        y, x = lay.origin(r, 0)
        canvas[y:y + t, x:x + t] = ft
        _put_text(canvas, row_captions[r], x, y + t, t, lay.caption_h)
        for c, (_, cells) in enumerate(columns, start=1):
            m, caption = cells[r]
            y, x = lay.origin(r, c)
            if m is None:
                canvas[y:y + t, x:x + t] = _NA_GREY
                _put_text(canvas, 'n/a', x, y, t, t)
            else:
                canvas[y:y + t, x:x + t] = overlay_map(
                    ft, np.asarray(m, np.float32), alpha=alpha)
            _put_text(canvas, caption, x, y + t, t, lay.caption_h)
    return canvas


def _row_caption(e: dict) -> str:
    """``<label or method>: <file name>`` (shortened from the end)."""
    name = osp.splitext(osp.basename(e['img_path']))[0]
    if int(e['gt_label']) == 0:
        return f'real: {name}'
    return f'{e.get("method") or "fake"}: {name}'


def map_sheet(ann_file: str,
              out: str,
              data_root: Optional[str] = None,
              maps: Optional[Mapping[str, str]] = None,
              columns: Sequence = (),
              images: Optional[Sequence[str]] = None,
              num: int = 4,
              seed: int = 0,
              with_real: bool = False,
              show_mask: bool = True,
              tile: int = 128,
              alpha: float = 1.0,
              overwrite: bool = False,
              log: Callable[[str], None] = print) -> Dict:
    """Write a comparison sheet PNG (and ``<stem>.json`` describing it).

    Columns: ``face``, ``mask`` (the annotation's true ``mask_path``, when
    one of the chosen fakes has one and ``show_mask``), then ``maps`` and
    ``columns`` in the order given.

    Args:
        ann_file (str): Annotation of the faces (and true masks).
        out (str): Output PNG.
        data_root (str, optional): Root of every annotation's relative
            paths. Defaults to the folder of ``ann_file``.
        maps (Mapping[str, str], optional): Column title -> annotation with
            maps (``tools/generate_maps.py`` output).
        columns (Sequence): Further columns: objects with ``name``,
            ``cells(entries, faces)`` -> ``[(map or None, caption)]`` and
            optionally ``spec`` (recorded in the JSON), e.g.
            :class:`mmfocus.apis.figures.ModelMaps`.
        images, num, seed, with_real: Row choice, see
            :func:`select_samples`.
        show_mask (bool): Add the true-mask column. Defaults to True.
        tile (int): Tile side in pixels. Defaults to 128.
        alpha (float): Heat-map opacity. Defaults to 1.
        overwrite (bool): Replace existing outputs. Defaults to False.
        log (callable): Defaults to print.

    Returns:
        dict: ``png``, ``json``, ``rows`` (img_paths), ``columns``
        (titles), ``size`` (H, W).

    Raises:
        FileExistsError: an output exists and not ``overwrite``.
        FileNotFoundError: a face, mask or map file is missing (named).
    """
    maps, columns_in = dict(maps or {}), list(columns)
    if not str(out).lower().endswith('.png'):
        raise ValueError(f'--out must be a .png file, got {out}')
    side = osp.splitext(out)[0] + '.json'
    if not overwrite:
        for p in (out, side):
            if osp.exists(p):
                raise FileExistsError(f'output exists: {p} (pass '
                                      '--overwrite to replace it)')
    titles = ['face'] + list(maps) + [c.name for c in columns_in]
    if len(set(titles)) != len(titles) or 'mask' in titles:
        raise ValueError(f'column names must be unique and not "face" or '
                         f'"mask": {titles[1:]}')
    if tile < 8:
        raise ValueError(f'--tile must be >= 8 px, got {tile}')
    data_root = osp.dirname(osp.abspath(ann_file)) if data_root is None \
        else data_root
    ann = load_annotation(ann_file)
    rows = select_samples(ann['data_list'], images=images, num=num,
                          seed=seed, with_real=with_real, log=log)
    faces = [imread_checked(_resolve(e['img_path'], data_root),
                            cv2.IMREAD_COLOR) for e in rows]

    columns: List[Tuple[str, List[Cell]]] = []
    if show_mask and any(int(e['gt_label']) == 1 and e.get('mask_path')
                         for e in rows):
        cells = []
        for e, face in zip(rows, faces):
            if e.get('mask_path'):
                cells.append((read_map(_resolve(e['mask_path'], data_root),
                                       'mask'), ''))
            elif int(e['gt_label']) == 0:  # a real face: nothing changed
                cells.append((np.zeros(face.shape[:2], np.float32), ''))
            else:
                cells.append((None, 'no mask'))
        columns.append(('mask', cells))
    for name, path in maps.items():
        src = AnnotationMaps(name, path, data_root)
        cells = src.cells(rows, faces)
        columns.append((name, cells))
        if any(cap == 'not listed' for _, cap in cells):
            warnings.warn(f'{path}: some rows are not listed in this map '
                          'annotation (drawn as n/a)')
    for col in columns_in:
        columns.append((col.name, col.cells(rows, faces)))

    layout = SheetLayout(tile=tile)
    sheet = render_sheet(faces, [_row_caption(e) for e in rows], columns,
                         layout=layout, alpha=alpha)
    desc = dict(ann_file=ann_file, data_root=data_root,
                columns=['face'] + [c[0] for c in columns],
                sources=dict({k: v for k, v in maps.items()},
                             **{c.name: getattr(c, 'spec', None)
                                for c in columns_in}),
                layout=layout.__dict__, alpha=alpha,
                rows=[dict(img_path=e['img_path'],
                           label=int(e['gt_label']),
                           method=e.get('method'),
                           cells={t: cap for t, (_, cap) in
                                  [(c[0], c[1][r]) for c in columns]})
                      for r, e in enumerate(rows)])
    atomic_write_json(side, desc, overwrite=overwrite)
    atomic_save_image(out, sheet, overwrite=overwrite)
    log(f'sheet: {len(rows)} rows x {len(desc["columns"])} columns '
        f'({", ".join(desc["columns"])}), {sheet.shape[1]}x{sheet.shape[0]}'
        f' px -> {out}')
    return dict(png=out, json=side, rows=[e['img_path'] for e in rows],
                columns=desc['columns'], size=sheet.shape[:2])
