# Copyright (c) mmfocus contributors.
"""Comparison sheets of a map-protocol work dir, for its report.

Two kinds, both drawn with :mod:`mmfocus.visualization.sheet` (Fig. 5 / 7
layout: ``face | true mask | <source> ...``):

* **found**: PNG sheets that ``tools/visualization/map_sheet.py`` wrote
  into the work dir (each with its ``<stem>.json``), e.g.
  ``<work_dir>/sheets/by_region.png``;
* **composed**: from the maps the protocol wrote for the test split
  (``maps/test/<source>/<ann stem>_maps-<source>.json``): one sheet with
  one fake of every region type, and one sheet per region type (a few of
  its fakes, each followed by its real twin), one column per source.

Only files are read (the maps annotations, the generator's
``report.json`` and the test annotation they name); nothing is imported
from :mod:`mmfocus.experiments`.
"""
import glob
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmfocus.datasets.annotation import load_annotation
from mmfocus.utils.io import imread_checked, peek_json
from ..sheet import (AnnotationMaps, SheetLayout, _resolve, _row_caption,
                     read_map, render_sheet, select_samples)

# the protocol's own folders: no comparison sheet in there
PROTOCOL_DIRS = ('maps', 'train', 'test', 'map_quality')


@dataclass
class Sheet:
    """One sheet for the page: the image, what it shows (filter values:
    source names and region types, ``['*']`` for any) and its caption
    (plain text)."""
    title: str
    img: np.ndarray
    sources: List[str] = field(default_factory=lambda: ['*'])
    regions: List[str] = field(default_factory=lambda: ['*'])
    caption: str = ''
    path: Optional[str] = None


def region_tags(methods: Sequence[str]) -> List[str]:
    """Region types of a sheet's fakes, plus ``local`` (the protocol's
    pooled ``sbi-<region>`` group) when one is a local type."""
    tags = sorted({m for m in methods if m and m != 'real'})
    if any(m.startswith('sbi-') for m in tags):
        tags.append('local')
    return tags or ['*']


def find_sheets(work_dir: str, sources: Dict[str, str]) -> List[Sheet]:
    """Sheets that ``map_sheet.py`` wrote into ``work_dir`` (two levels
    deep; the protocol's own folders are skipped): PNG files with a
    ``<stem>.json`` that lists ``columns`` and ``rows``.

    Args:
        work_dir (str): The work dir.
        sources (dict): Source name -> label, to tag each sheet with the
            sources of its columns (a column titled by a name or a label,
            or whose maps annotation is ``*_maps-<name>.json`` or under
            ``maps/test/<name>/``).
    """
    out = []
    pats = ('*.png', '*/*.png', '*/*/*.png')
    for p in sorted({p for pat in pats
                     for p in glob.glob(osp.join(work_dir, pat))}):
        rel = osp.relpath(p, work_dir).replace('\\', '/')
        if rel.split('/')[0] in PROTOCOL_DIRS:
            continue
        desc = peek_json(osp.splitext(p)[0] + '.json')
        if not isinstance(desc, dict) or not isinstance(
                desc.get('columns'), list) or not isinstance(
                    desc.get('rows'), list):
            continue
        titles = [c for c in desc['columns'] if c not in ('face', 'mask')]
        paths = desc.get('sources') or {}
        names = []
        for t in titles:
            spec = str(paths.get(t) or '').replace('\\', '/')
            for n, label in sources.items():
                if t.casefold() in (n.casefold(), str(label).casefold()) or \
                        spec.endswith(f'_maps-{n}.json') or \
                        f'maps/test/{n}/' in spec:
                    names.append(n)
                    break
        methods = [str(r.get('method') or '') for r in desc['rows']
                   if isinstance(r, dict) and r.get('label') == 1]
        out.append(Sheet(
            title=rel, img=imread_checked(p), sources=names or ['*'],
            regions=region_tags(methods), path=p,
            caption=(f'{len(desc["rows"])} rows; columns: '
                     f'{", ".join(desc["columns"])}')))
    return out


def _maps_of(work_dir: str, name: str) -> Optional[Tuple[str, dict]]:
    """The test-split maps annotation of one source and the generator's
    report (``maps/test/<name>/<ann stem>_maps-*.json`` and
    ``maps/test/<name>/*/report.json``), or None. A ``<detector>/<source>``
    row of a Table III spec has its maps under ``maps/test/<source>/``
    unless its detector has data of its own."""
    for sub in dict.fromkeys((name, name.rsplit('/', 1)[-1])):
        folder = osp.join(work_dir, 'maps', 'test', sub)
        anns = sorted(glob.glob(osp.join(folder, '*_maps-*.json')))
        reports = sorted(glob.glob(osp.join(folder, '*', 'report.json')))
        if len(anns) != 1 or not reports:
            continue
        rep = peek_json(reports[0])
        if isinstance(rep, dict):
            return anns[0], rep
    return None


def _spec_data_root(spec: Optional[str]) -> Optional[str]:
    """A literal ``data_root = '...'`` of the protocol spec (read as text,
    not run), or None."""
    try:
        with open(str(spec), encoding='utf-8') as f:
            m = re.search(r'^data_root\s*=\s*[\'"]([^\'"]+)[\'"]', f.read(),
                          flags=re.M)
    except (OSError, ValueError):
        return None
    return m.group(1) if m else None


def _data_root(work_dir: str, maps: Dict[str, Tuple[str, dict]],
               ann_file: str, spec: Optional[str] = None) -> Optional[str]:
    """The data root the maps were written for, of these candidates the
    first under which the test annotation and the first map resolve: the
    folder of an annotation the run named (the map generator's input, the
    test runs' ``ann``; relative paths from the current dir, as the
    protocol ran), then the spec's own ``data_root``."""
    cands = []
    inside = osp.abspath(work_dir) + osp.sep
    for ann, rep in maps.values():
        a = rep.get('ann_file')
        if isinstance(a, str) and not osp.abspath(a).startswith(inside):
            cands.append(osp.dirname(a))
    for p in sorted(glob.glob(osp.join(work_dir, 'test', '*', '*.json'))):
        r = peek_json(p)
        if isinstance(r, dict) and isinstance(r.get('ann'), str):
            cands.append(osp.dirname(r['ann']))
    root = _spec_data_root(spec)
    if root:
        cands.append(root)
    first_ann = next(iter(maps.values()))[0]
    probe = next((e['mask_path'] for e in load_annotation(first_ann)[
        'data_list'] if e.get('mask_path')), None)
    for root in dict.fromkeys(cands):
        if osp.isfile(_resolve(ann_file, root)) and (
                probe is None or osp.isfile(_resolve(probe, root))):
            return root
    return None


def _spread(items: list, k: int) -> list:
    """At most ``k`` of ``items``, spread evenly (first and last kept)."""
    if len(items) <= k:
        return list(items)
    idx = np.unique(np.round(np.linspace(0, len(items) - 1, k)).astype(int))
    return [items[i] for i in idx]


def compose_protocol_sheets(work_dir: str, sources: Sequence[Tuple[str,
                                                                   str]],
                            ann_file: str, rows: int = 3, tile: int = 64,
                            max_sheets: int = 24, spec: Optional[str] = None
                            ) -> Tuple[List[Sheet], List[str]]:
    """Sheets from the maps the protocol wrote for the test split.

    Args:
        work_dir (str): The protocol work dir.
        sources (Sequence[tuple]): ``(name, label)`` of the map-quality
            rows, in table order (a source without test maps in the work
            dir, such as the annotation's own masks, has no column).
        ann_file (str): The test annotation of ``map_quality.json``
            (relative to the data root).
        rows (int): Fakes per region-type sheet. Defaults to 3.
        tile (int): Tile side in pixels. Defaults to 64.
        max_sheets (int): Most sheets made. Defaults to 24.
        spec (str, optional): The protocol spec the tables name (its
            ``data_root`` is the last guess of where the faces are).

    Returns:
        tuple: ``(sheets, notes)``: the overview sheet (one fake of every
        region type) then one per region type; ``notes`` say why sheets
        were not made.
    """
    if max_sheets < 1:
        return [], []
    maps = {}
    for name, _ in sources:
        hit = _maps_of(work_dir, name)
        if hit is not None:
            maps[name] = hit
    if not maps:
        return [], ['no test-split maps under maps/test/ in the work dir: '
                    'no sheet composed']
    root = _data_root(work_dir, maps, ann_file, spec)
    if root is None:
        return [], [f'the faces of {ann_file} were not found (the data '
                    'root the run used has moved?): no sheet composed']
    ann = load_annotation(_resolve(ann_file, root))
    entries = ann['data_list']
    cols = [AnnotationMaps(name, maps[name][0], root) for name in maps]
    by_region: Dict[str, List[dict]] = {}
    for e in entries:
        if int(e['gt_label']) == 1:
            by_region.setdefault(str(e.get('method') or 'fake'), []).append(e)
    regions = sorted(by_region, key=lambda g: (g == 'local', g))
    layout = SheetLayout(tile=tile)
    faces: Dict[str, np.ndarray] = {}

    def draw(row_entries):
        imgs = []
        for e in row_entries:
            if e['img_path'] not in faces:
                faces[e['img_path']] = imread_checked(
                    _resolve(e['img_path'], root))
            imgs.append(faces[e['img_path']])
        mask = []
        for e, face in zip(row_entries, imgs):
            if e.get('mask_path'):
                mask.append((read_map(_resolve(e['mask_path'], root),
                                      'mask'), ''))
            else:
                mask.append((np.zeros(face.shape[:2], np.float32), '')
                            if int(e['gt_label']) == 0 else (None,
                                                             'no mask'))
        columns = [('mask', mask)] + [(c.name, c.cells(row_entries, imgs))
                                      for c in cols]
        return render_sheet(imgs, [_row_caption(e) for e in row_entries],
                            columns, layout=layout)

    names = list(maps)
    legend = ', '.join(names)
    sheets = []
    if len(regions) > 1:
        firsts = [by_region[g][0] for g in regions]
        sheets.append(Sheet(
            title='one fake of every region type', img=draw(firsts),
            sources=names, regions=region_tags(regions),
            caption=(f'One fake of each region type ({", ".join(regions)})'
                     f': face, true mask, then the map of {legend}.')))
    for g in regions:
        if len(sheets) >= max_sheets:
            break
        picked = _spread(by_region[g], rows)
        row_entries = select_samples(
            entries, images=[e['img_path'] for e in picked],
            with_real=True, log=lambda m: None)
        sheets.append(Sheet(
            title=f'region type {g}', img=draw(row_entries), sources=names,
            regions=region_tags([g]),
            caption=(f'{len(picked)} of the {len(by_region[g])} {g} '
                     f'fakes, each followed by its real twin: face, true '
                     f'mask, then the map of {legend}.')))
    missing = [n for n, _ in sources if n not in maps]
    notes = ([f'no test-split maps in the work dir for {", ".join(missing)}'
              ' (no column in the composed sheets)'] if missing else [])
    return sheets[:max_sheets], notes
