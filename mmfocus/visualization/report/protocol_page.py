# Copyright (c) mmfocus contributors.
"""The report page of a map-protocol work dir
(``tools/experiments/map_protocol.py``): its results and map-quality
tables as HTML tables (the cells of ``results.md`` / ``map_quality.md``,
sortable, the full-precision number kept in each cell), per region type
and per source (filters), the faithfulness table, and comparison sheets.

The tables are read from ``results.json`` / ``map_quality.json``; their
layout repeats the protocol's Markdown one (``mmfocus.experiments.tables``,
layer 5, is not imported: the tests compare the page's cells with the
Markdown the tool wrote).
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmfocus.evaluation.metrics.map_metric_columns import (
    MAP_QUALITY_COLUMNS, PRIOR_ROWS, REGION_CELL)
from . import html_parts as H
from .kinds import load_protocol
from .sheets import compose_protocol_sheets, find_sheets

PRIOR = {'cls': 'prior', 'data-f-source': '*'}


def _columns(quality: dict) -> List[Tuple[str, str, int]]:
    thr = f'{float(quality.get("iou_thr", 0.5)):g}'
    return [(k.format(thr=thr), h.format(thr=thr), d)
            for k, h, d in MAP_QUALITY_COLUMNS]


def _mq_cells(metrics: dict, cols, prefix: str = '') -> List[dict]:
    out = []
    for key, _, digits in cols:
        if key == 'paired_auc_ci':
            out.append(H.spread(metrics.get(f'{prefix}{key}_low'),
                                metrics.get(f'{prefix}{key}_high'), digits))
        else:
            out.append(H.num(metrics.get(prefix + key), digits))
    return out


def groups_of(quality: dict) -> List[str]:
    """Region types (``method`` groups) of the map-quality rows, in the
    Markdown's order (``local``, the pooled local types, last)."""
    found: List[str] = []
    for r in quality['rows']:
        m = r.get('metrics') or {}
        found += sorted(g for g in {
            k.split('/')[0] for k in m
            if k.count('/') == 1 and k.endswith('/num_fakes')
            and not k.startswith('prior_')} if g not in found)
    return sorted(found, key=lambda g: (g == 'local', g))


def results_section(res: dict) -> str:
    """The results table (in-dataset Acc/AUC, cross-dataset AUC)."""
    ind = res['in_dataset']
    by_det = any(r.get('detector') for r in res['rows'])
    header = ['Detector / map source' if by_det else 'Map source',
              f'{ind} Acc', f'{ind} AUC'] + [
                  f'{c} AUC' for c in res['cross_datasets']]
    rows, not_run = [], []
    n = len(header)
    for r in res['rows']:
        attrs = {'data-f-source': H.tok(r['name']), 'data-name': r['name']}
        if r.get('status'):
            cells = [H.txt(r['status'], cls='status')] + ['n/a'] * (n - 2)
            not_run.append(f'{r["label"]}: {r["status"]}')
        else:
            t = r['in_dataset'] or {}
            cells = ([H.txt(t['status'], cls='status')] * 2
                     if t.get('status') else [H.num(t.get('acc'), 2),
                                              H.num(t.get('auc'), 2)])
            if t.get('checkpoint'):
                attrs['title'] = f'checkpoint {t["checkpoint"]}'
            for c in res['cross_datasets']:
                x = r['cross'].get(c) or {}
                cells.append(H.txt(x['status'], cls='status')
                             if x.get('status') else H.num(x.get('auc'), 2))
        rows.append(([r['label']] + cells, attrs))
    html = ''
    if res.get('description'):
        html += H.note(H.esc(res['description']))
    table = H.table('results', header, rows) + H.note(
        'Acc and AUC in percent, frame level (ForgeryMetric); the cross-'
        'dataset columns are the AUC of the same checkpoints on the other '
        'test sets. Click a header to sort.')
    trained = [r for r in res['rows'] if not r.get('status') and
               not (r.get('in_dataset') or {}).get('status')]
    if trained:
        html += table
    else:  # folded: every cell is n/a
        html += H.note('No evaluation model was tested in this work dir '
                       '(e.g. a map-quality-only spec, '
                       '<code>train_models = False</code>).')
        html += f'<details><summary>the results table</summary>{table}' \
                '</details>'
    if not_run:
        html += H.note('Not run: ' + H.esc('; '.join(not_run)) + '.')
    # every test metric of each source (ForgeryMetric, MapQualityMetric of
    # the model's own predicted maps), folded
    keys: List[str] = []
    for r in trained:
        for k in r['in_dataset'].get('metrics') or {}:
            if k.count('/') <= 1 and k not in keys:
                keys.append(k)
    if keys:
        keys.sort(key=lambda k: (not k.startswith('forgery/'), k))
        rows = [([r['label']] + [
            H.num(r['in_dataset']['metrics'].get(k), 4) for k in keys],
            {'data-f-source': H.tok(r['name'])}) for r in trained]
        html += (f'<details><summary>every {H.esc(ind)} test metric of each '
                 f'source ({len(keys)} columns; map/* is the quality of the '
                 f'model\'s own predicted maps)</summary>'
                 f'{H.table("results-metrics", ["Map source"] + keys, rows)}'
                 '</details>')
    return html


def quality_section(q: dict) -> str:
    """The map-quality table: sources, then the position priors."""
    cols = _columns(q)
    header = ['Map source'] + [h for _, h, _ in cols]
    rows = []
    for r in q['rows']:
        attrs = {'data-f-source': H.tok(r['name']), 'data-name': r['name']}
        if r.get('status'):
            cells = [H.txt(r['status'], cls='status')] + ['n/a'] * (
                len(cols) - 1)
        else:
            cells = _mq_cells(r['metrics'], cols)
        rows.append(([r['label']] + cells, attrs))
    for key, label in PRIOR_ROWS:
        m = (q.get('priors') or {}).get(key)
        if m is not None:
            rows.append(([label] + _mq_cells(m, cols),
                         dict(PRIOR, **{'data-name': key})))
    html = H.note(H.esc(q['description'])) if q.get('description') else ''
    html += H.table('map-quality', header, rows)
    size = 'x'.join(map(str, q.get('map_size') or ()))
    html += H.note(
        f'Measured against the true masks of {H.code(q.get("ann_file"))}'
        f' (fakes with a non-empty mask &gt; {q.get("mask_thr", 0.5):g}'
        f', maps and masks at {H.esc(size)}; MapQualityMetric). Lead with '
        '<b>paired map-AUC</b> (with its 95 % bootstrap interval over the '
        'pairs): inside the true mask, the fake\'s map against the same '
        'pixels of its real twin\'s map; a position prior scores 0.5. Pixel '
        'AUC, IoU and the pointing game mean something only beside the '
        'position-prior rows (<i>italic</i>), which never look at the face.')
    if q.get('no_map'):
        html += H.note('No map (not in this table): ' +
                       H.esc(', '.join(q['no_map'])) + '.')
    return html


def region_section(q: dict, groups: List[str]) -> str:
    """Per region type: the Markdown's matrix (paired map-AUC / pixel AUC
    per image) and every map-quality column per (source, region type)."""
    def cell(m, g):
        a, b = (m.get(f'{g}/{k}') for k in REGION_CELL)
        c = H.num(a, 3, **{'data-f-region': H.tok(g)})
        c['text'] = f'{H.fmt(a, 3)} / {H.fmt(b, 3)}'
        return c

    srcs = [(r['label'], r['metrics'], {'data-f-source': H.tok(r['name']),
                                        'data-name': r['name']})
            for r in q['rows'] if not r.get('status') and r.get('metrics')]
    priors = [(label, q['priors'][key], dict(PRIOR, **{'data-name': key}))
              for key, label in PRIOR_ROWS
              if (q.get('priors') or {}).get(key) is not None]
    header = ['Map source'] + [
        H.txt(g, **{'data-f-region': H.tok(g)}) for g in groups]
    rows = [([label] + [cell(m, g) for g in groups], attrs)
            for label, m, attrs in srcs + priors]
    first = (q['rows'][0].get('metrics') or {}) if q['rows'] else {}
    counts = ', '.join(f'{g} {H.fmt(first.get(f"{g}/num_fakes"), 0)}'
                       for g in groups)
    html = H.note('Each cell: paired map-AUC / per-image pixel AUC over the '
                  'fakes of that type (<code>local</code> pools every '
                  f'<code>sbi-&lt;region&gt;</code> type). Fakes per type: '
                  f'{H.esc(counts)}. Sorting a column sorts by paired '
                  'map-AUC.')
    html += H.table('region-matrix', header, rows)
    cols = _columns(q)
    header = ['Map source', 'region type'] + [h for _, h, _ in cols]
    long_rows = []
    for g in groups:
        for label, m, attrs in srcs + priors:
            a = dict(attrs, **{'data-f-region': H.tok(g)})
            long_rows.append(([label, H.txt(g, cls='l')] +
                              _mq_cells(m, cols, prefix=f'{g}/'), a))
    html += '<h3>Every map-quality column per region type</h3>'
    html += H.table('region-metrics', header, long_rows)
    return html


def faithfulness_section(q: dict) -> str:
    """Deletion / insertion AUC (mean ± std over the fakes) beside random
    maps, when the spec ran it."""
    rows = []
    for r in q['rows']:
        f = r.get('faithfulness')
        if not f:
            continue

        def ms(key):
            c = H.num(f.get(key + '_auc'), 3)
            c['text'] = (f'{H.fmt(f.get(key + "_auc"), 3)} ± '
                         f'{H.fmt(f.get(key + "_auc_std"), 3)}')
            return c

        rows.append(([r['label'], ms('deletion'), ms('random_deletion'),
                      ms('insertion'), ms('random_insertion'),
                      H.num(f.get('num_fakes'), 0),
                      dict(H.txt(str(f.get('scorer', '')), cls='l'),
                           html=H.code(f.get('scorer', '')))],
                     {'data-f-source': H.tok(r['name'])}))
    if not rows:
        return ''
    header = ['Map source', 'deletion AUC (lower: faithful)', 'random map',
              'insertion AUC (higher: faithful)', 'random map', 'fakes',
              'scored by']
    return (H.note('The fake score of the scoring detector as the top-k % '
                   'of map pixels are blurred away (deletion) or restored '
                   'into a blurred face (insertion); area under the curve, '
                   'mean ± std over the fakes, beside seeded random maps on '
                   'the same faces.') + H.table('faithfulness', header, rows))


def runs_section(work_dir: str, res: Optional[dict],
                 names: Dict[str, str]) -> str:
    """What each source ran: its checkpoint, the training config dumped in
    ``train/<source>/`` and the test-split maps."""
    ckpts = {}
    for r in (res or {}).get('rows', []):
        t = r.get('in_dataset') or {}
        ckpts[r['name']] = t.get('checkpoint') or r.get('status') or ''
    rows = []
    for name, label in names.items():
        cfgs = sorted(glob.glob(osp.join(work_dir, 'train', name, '*.py')))
        maps = sorted(glob.glob(osp.join(work_dir, 'maps', 'test', name,
                                         '*_maps-*.json')))
        rows.append(([H.txt(name), H.txt(label, cls='l'),
                      H.txt(ckpts.get(name, ''), cls='l'),
                      H.txt(', '.join(osp.relpath(p, work_dir)
                                      for p in cfgs), cls='l'),
                      H.txt(', '.join(osp.relpath(p, work_dir)
                                      for p in maps), cls='l')],
                     {'data-f-source': H.tok(name)}))
    return H.table('runs', ['source', 'label', 'checkpoint (or status)',
                            'training config', 'test-split maps'], rows)


def sheets_section(work_dir: str, q: Optional[dict], names: Dict[str, str],
                   max_sheets: int, max_px: int, rows: int,
                   tile: int) -> str:
    """The composed sheets, then those found in the work dir, at most
    ``max_sheets`` in all."""
    if max_sheets < 1:
        return H.note('Sheets left out (--max-sheets 0).')
    notes: List[str] = []
    sheets = []
    if q is not None and q.get('ann_file'):
        mq_sources = [(r['name'], r['label']) for r in q['rows']
                      if not r.get('status')]
        try:
            sheets, notes = compose_protocol_sheets(
                work_dir, mq_sources, q['ann_file'], rows=rows, tile=tile,
                max_sheets=max_sheets, spec=q.get('spec'))
        except (OSError, ValueError, KeyError) as e:  # moved or partial data
            notes.append(f'no sheet composed: {e}')
    found = find_sheets(work_dir, names)
    total = len(sheets) + len(found)
    sheets = (sheets + found)[:max_sheets]
    if total > len(sheets):
        notes.append(f'{total - len(sheets)} of {total} sheets left out '
                     f'(--max-sheets {max_sheets})')
    html = H.note(
        'Each sheet: face, true mask, then one map per source (JET colour '
        'map, values as they are: a map that is weak everywhere looks '
        'weak). The source and region filters show the sheets that hold '
        'that source / region type.')
    for n in notes:
        html += H.note(H.esc(n))
    for i, s in enumerate(sheets):
        cap = f'<b>{H.esc(s.title)}</b>. {H.esc(s.caption)}'
        if s.path:
            cap += f' <code>{H.esc(osp.relpath(s.path, work_dir))}</code>'
        html += H.figure(s.img, s.title, cap, max_px, f'sheet-{i}', {
            'data-f-source': H.tokens(s.sources),
            'data-f-region': H.tokens(s.regions)})
    html += '<p class="note" id="no-sheets" hidden>No sheet for this ' \
            'selection.</p>'
    return html


def build_protocol_html(work_dir: str, max_sheets: int = 24,
                        max_px: int = 1600, sheet_rows: int = 3,
                        sheet_tile: int = 64,
                        title: Optional[str] = None) -> str:
    """Build the report page of a map-protocol work dir.

    Args:
        work_dir (str): The protocol's work dir.
        max_sheets (int): Most comparison sheets on the page (0: none).
            Defaults to 24.
        max_px (int): Longest side of an inline sheet; bigger ones are
            downscaled. Defaults to 1600.
        sheet_rows (int): Fakes per region-type sheet. Defaults to 3.
        sheet_tile (int): Tile side of the composed sheets. Defaults to 64.
        title (str, optional): Page title. Defaults to the results table's.

    Returns:
        str: The HTML text.
    """
    tables = load_protocol(work_dir)
    res, q = tables['results'], tables['quality']
    names: Dict[str, str] = {}
    for t in (res, q):
        for r in (t or {}).get('rows', []):
            names.setdefault(r['name'], r['label'])
    groups = groups_of(q) if q else []
    first = res or q
    meta = [('spec', H.code(first.get('spec'))),
            ('training', H.esc(res['training']) if res and
             res.get('training') else None),
            ('test sets', H.esc(', '.join(
                [f'{res["in_dataset"]} (in-dataset)'] +
                list(res.get('cross_datasets') or []))) if res else None),
            ('map quality', (
                f'{H.code(q.get("ann_file"))}, maps and masks at '
                f'{H.esc("x".join(map(str, q.get("map_size") or ())))}, '
                f'mask &gt; {q.get("mask_thr", 0.5):g}, IoU / F1 at '
                f'{q.get("iou_thr", 0.5):g}') if q else None),
            ('recorded work dir', H.code(first.get('work_dir'))
             if first.get('work_dir') else None)]
    sections = []
    if res:
        sections.append(('results', 'Results (in-dataset and cross-dataset)',
                         results_section(res)))
    if q:
        sections.append(('quality', q.get('title') or 'Map quality',
                         quality_section(q)))
        if groups:
            sections.append(('regions', 'Map quality per region type',
                             region_section(q, groups)))
        faith = faithfulness_section(q)
        if faith:
            sections.append(('faithfulness',
                             'Faithfulness (deletion / insertion)', faith))
    sections.append(('sheets', 'Comparison sheets', sheets_section(
        work_dir, q, names, max_sheets, max_px, sheet_rows, sheet_tile)))
    sections.append(('runs', 'What each source ran',
                     runs_section(work_dir, res, names)))
    filters = [('source', 'source', [(n, f'{lab} ({n})' if lab != n else n)
                                     for n, lab in names.items()])]
    if groups:
        filters.append(('region', 'region type', [(g, g) for g in groups]))
    title = title or first.get('title') or 'Map protocol'
    return H.build_page(title, 'map protocol', work_dir, meta, filters,
                        sections)
