# Copyright (c) mmfocus contributors.
"""The report page of a robustness work dir
(``tools/analysis/robustness.py --out-dir``): the AUC per perturbation type
and level (the cells of ``robustness.md``), the Table IV row, the
parameters of each level and the plot, with a filter per perturbation type.

Read from ``robustness.json`` and ``robustness.png``; the layout repeats
the tool's Markdown (``mmfocus.experiments.robustness``, layer 5, is not
imported).
"""
import os.path as osp
import shlex
from typing import Optional

from mmfocus.utils.io import imread_checked
from . import html_parts as H
from .kinds import load_robustness

# as robustness.md names the types
TYPE_TITLES = dict(saturation='Saturation', contrast='Contrast',
                   block='Block', noise='Noise', blur='Blur',
                   pixelation='Pixel', compression='Compress')
PARAM_NAMES = dict(saturation='chroma factor', contrast='contrast factor',
                   block='blocks per 256 px', noise='noise variance',
                   blur='Gaussian kernel', pixelation='down-up factor',
                   compression='H.264 CRF')
PLOT = 'robustness.png'


def _title(t: str) -> str:
    return TYPE_TITLES.get(t, t.capitalize())


def build_robustness_html(work_dir: str, max_px: int = 1600,
                          title: Optional[str] = None) -> str:
    """Build the report page of a robustness work dir.

    Args:
        work_dir (str): The ``--out-dir`` of ``tools/analysis/robustness.py``.
        max_px (int): Longest side of the inline plot. Defaults to 1600.
        title (str, optional): Page title. Defaults to the tool's
            (``Robustness: <config>``).

    Returns:
        str: The HTML text.
    """
    r = load_robustness(work_dir)
    levels = list(r['levels'])
    types = r['types']
    clean = r.get('clean_auc')
    backend = r.get('compression_backend')

    header = ['Type'] + [f'L{lv}' for lv in levels] + ['Mean',
                                                        'Mean − clean']
    rows = [(['Clean'] + [H.num(clean, 2) for _ in levels] +
             [H.num(clean, 2), ''], {'cls': 'prior', 'data-f-type': '*',
                                     'data-name': 'clean'})]
    for t, v in types.items():
        cells = []
        for lv in levels:
            c = H.num((v.get('auc') or {}).get(str(lv)), 2)
            p = (v.get('params') or {}).get(str(lv))
            if p is not None:
                c['attrs'] = {'title': f'{PARAM_NAMES.get(t, "parameter")} '
                              f'{p}'}
            cells.append(c)
        mean = v.get('mean_auc')
        drop = (mean - clean if isinstance(mean, (int, float)) and
                isinstance(clean, (int, float)) else None)
        rows.append(([_title(t)] + cells + [H.num(mean, 2),
                                            H.num(drop, 2)],
                     {'data-f-type': H.tok(t), 'data-name': t}))
    per_level = H.table('auc-per-level', header, rows)

    t4_header = ['Clean'] + [
        H.txt(_title(t), **{'data-f-type': H.tok(t)}) for t in types
    ] + ['Avg']
    t4 = H.table('table-iv', t4_header, [
        ([H.num(clean, 2)] + [
            H.num(v.get('mean_auc'), 2, **{'data-f-type': H.tok(t)})
            for t, v in types.items()] + [H.num(r.get('mean_auc'), 2)],
         {})], cls='data', label_col=False)

    p_header = ['Type', H.txt('parameter', cls='l')] + [
        f'L{lv}' for lv in levels]

    def param(value):
        c = H.num(value, 0)
        if c['v'] is not None:
            c['text'] = f'{value:g}'
        return c

    p_rows = [([_title(t), H.txt(PARAM_NAMES.get(t, ''), cls='l')] + [
        param((v.get('params') or {}).get(str(lv))) for lv in levels],
        {'data-f-type': H.tok(t)}) for t, v in types.items()]
    params = H.table('params', p_header, p_rows)

    plot_path = osp.join(work_dir, PLOT)
    if osp.isfile(plot_path):
        plot = H.figure(imread_checked(plot_path), 'AUC against level per '
                        'type', 'AUC (%) against the perturbation level, one '
                        'line per type; the clean AUC dashed. '
                        f'<code>{PLOT}</code>', max_px, 'plot',
                        {'data-f-type': '*'})
    else:
        plot = H.note(f'No {PLOT} in the work dir.')

    cmd = ['python', 'tools/analysis/robustness.py', str(r.get('config')),
           str(r.get('checkpoint')), '--types'] + list(types) + [
               '--levels'] + [str(lv) for lv in levels] + [
                   '--seed', str(r.get('seed', 0))]
    if backend:
        cmd += ['--compression-backend', str(backend)]
    cmd += ['--out-dir', work_dir]
    meta = [('config', H.code(r.get('config'))),
            ('checkpoint', H.code(r.get('checkpoint'))),
            ('seed', H.esc(str(r.get('seed')))),
            ('compression', H.esc(
                'not among the types' if not backend else
                f'{backend} (JPEG stand-in for the CRF)' if backend == 'jpeg'
                else f'{backend} (H.264 round trip)')),
            ('command', H.code(' '.join(shlex.quote(c) for c in cmd)) +
             ' <span class="note">(from what robustness.json records; any '
             '--cfg-options of the run are not recorded)</span>')]
    notes = H.note(
        'DeeperForensics-1.0 perturbations of the test faces; frame-level '
        'AUC (%) with ForgeryMetric; <i>Clean</i> is the unperturbed test '
        'set. <i>Mean − clean</i>: how much the mean AUC over the levels '
        'moved from the clean AUC. Hover a cell for its parameter; click a '
        'header to sort.')
    sections = [
        ('auc', 'AUC per level', notes + per_level),
        ('table4', 'Mean AUC per type (Table IV layout)', t4),
        ('plot-section', 'AUC against level', plot),
        ('parameters', 'Perturbation parameters per level', params)]
    title = title or f'Robustness: {r.get("config")}'
    filters = [('type', 'perturbation', [(t, _title(t)) for t in types])]
    return H.build_page(title, 'robustness', work_dir, meta, filters,
                        sections)
