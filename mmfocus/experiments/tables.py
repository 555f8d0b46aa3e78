# Copyright (c) mmfocus contributors.
"""Markdown / JSON tables of the map protocol (paper layout)."""
import math
from typing import Any, Dict, List, Optional, Sequence

from mmfocus.evaluation.metrics.map_metric_columns import (  # noqa: F401
    MAP_QUALITY_COLUMNS, PRIOR_ROWS, REGION_CELL, fmt)


def _cell(metrics: Dict, key: str, digits: int) -> str:
    """One cell of the map-quality table; ``paired_auc_ci`` is the
    ``[low, high]`` interval (empty where there is none, as for the
    priors, which score 0.5 exactly)."""
    if key == 'paired_auc_ci':
        lo, hi = (metrics.get(f'{key}_{b}') for b in ('low', 'high'))
        if lo is None or hi is None or not (math.isfinite(lo) and
                                           math.isfinite(hi)):
            return ''
        return f'[{fmt(lo, digits)}, {fmt(hi, digits)}]'
    return fmt(metrics.get(key), digits)


def _groups(metrics: Dict) -> List[str]:
    """Region types (``method`` groups) reported by MapQualityMetric."""
    return sorted({k.split('/')[0] for k in metrics
                   if k.count('/') == 1 and k.endswith('/num_fakes')
                   and not k.startswith('prior_')})


def faithfulness_markdown(quality: Dict) -> List[str]:
    """Lines of the deletion / insertion table (empty when not run)."""
    rows = []
    for r in quality['rows']:
        f = r.get('faithfulness')
        if not f:
            continue

        def ms(key):
            return (f"{fmt(f.get(key + '_auc'), 3)} ± "
                    f"{fmt(f.get(key + '_auc_std'), 3)}")

        rows.append([r['label'], ms('deletion'), ms('random_deletion'),
                     ms('insertion'), ms('random_insertion'),
                     fmt(f.get('num_fakes'), 0),
                     f"`{f.get('scorer', '')}`"])
    if not rows:
        return []
    header = ['Map source', 'deletion AUC (lower: faithful)',
              'random map', 'insertion AUC (higher: faithful)',
              'random map', 'fakes', 'scored by']
    return ['## Faithfulness (deletion / insertion)', '',
            'The fake score of the scoring detector as the top-k % of map '
            'pixels are blurred away (deletion) or restored into a blurred '
            'face (insertion); area under the curve, mean ± std over the '
            'fakes, beside seeded random maps on the same faces. A '
            'model-based source is scored by its own model, the others by '
            'the spec\'s scorer.', '',
            markdown_table(header, rows, [':---'] + ['---:'] * 5 + [':---']),
            '']


def region_markdown(quality: Dict) -> List[str]:
    """Lines of the per-region-type table (empty without groups)."""
    groups: List[str] = []
    for r in quality['rows']:
        groups += [g for g in _groups(r.get('metrics') or {})
                   if g not in groups]
    if not groups:
        return []
    groups = sorted(groups, key=lambda g: (g == 'local', g))
    header = ['Map source'] + groups
    rows = []

    def cells(m):
        return [f"{fmt(m.get(f'{g}/{REGION_CELL[0]}'), 3)} / "
                f"{fmt(m.get(f'{g}/{REGION_CELL[1]}'), 3)}" for g in groups]

    for r in quality['rows']:
        if r.get('status') or not r.get('metrics'):
            continue
        rows.append([r['label']] + cells(r['metrics']))
    for key, label in PRIOR_ROWS:
        m = quality['priors'].get(key)
        if m is not None:
            rows.append([f'*{label}*'] + cells(m))
    counts = [fmt((quality['rows'][0].get('metrics') or {}).get(
        f'{g}/num_fakes'), 0) if quality['rows'] else 'n/a' for g in groups]
    return ['## Per region type', '',
            'Each cell: paired map-AUC / per-image pixel AUC over the fakes '
            'of that type (`local` pools every `sbi-<region>` type). '
            'Fakes per type: ' + ', '.join(
                f'{g} {c}' for g, c in zip(groups, counts)) + '.', '',
            markdown_table(header, rows,
                           [':---'] + ['---:'] * len(groups)), '']


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    return obj


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   align: Optional[Sequence[str]] = None) -> str:
    """A GitHub-flavoured Markdown table (``|`` in cells escaped)."""

    def cell(x):
        return str(x).replace('|', '\\|')

    align = align or ['---'] * len(header)
    lines = ['| ' + ' | '.join(cell(h) for h in header) + ' |',
             '|' + '|'.join(align) + '|']
    lines += ['| ' + ' | '.join(cell(c) for c in r) + ' |' for r in rows]
    return '\n'.join(lines)


def results_markdown(results: Dict) -> str:
    """The results table (rows: map sources, or detector x map source when
    the spec has ``detectors``; columns: in-dataset Acc/AUC, then the
    cross-dataset AUCs) of :meth:`MapProtocol.collect_results`."""
    ind = results['in_dataset']
    by_detector = any(r.get('detector') for r in results['rows'])
    header = ['Map source', f'{ind} Acc', f'{ind} AUC'] + [
        f'{c} AUC' for c in results['cross_datasets']
    ]
    if by_detector:  # Table III: rows = detector x map source
        header = ['Detector / map source'] + header[1:]
    rows, notes = [], []
    for r in results['rows']:
        if r.get('status'):
            cells = [r['status']] + ['n/a'] * (len(header) - 2)
            notes.append(f'- {r["label"]}: {r["status"]}')
        else:
            t = r['in_dataset']
            cells = ([t['status']] * 2 if t.get('status') else
                     [fmt(t['acc'], 2), fmt(t['auc'], 2)])
            for c in results['cross_datasets']:
                x = r['cross'][c]
                cells.append(x['status'] if x.get('status') else fmt(
                    x['auc'], 2))
        rows.append([r['label']] + cells)
    text = [f'# {results["title"]}', '']
    if results.get('description'):
        text += [results['description'], '']
    text += [markdown_table(header, rows,
                            [':---'] + ['---:'] * (len(header) - 1)), '']
    text += [
        'Acc and AUC in percent, frame level (ForgeryMetric). Cross-dataset '
        'columns are AUC of the same checkpoints on the other test sets; '
        '"n/a (not configured)" means the protocol spec names no such set, '
        '"n/a (not found: ...)" that its annotation file is missing.', ''
    ]
    text += [f'- training: {results["training"]}',
             f'- spec: `{results["spec"]}`',
             f'- work dir: `{results["work_dir"]}`']
    if notes:
        text += ['', 'Not run:'] + notes
    return '\n'.join(text) + '\n'


def map_quality_markdown(quality: Dict) -> str:
    """The map-quality table of :meth:`MapProtocol.collect_map_quality`:
    rows = map sources, then the position-prior baselines."""
    thr = quality['iou_thr']
    cols = [(k.format(thr=f'{thr:g}'), h.format(thr=f'{thr:g}'), d)
            for k, h, d in MAP_QUALITY_COLUMNS]
    header = ['Map source'] + [h for _, h, _ in cols]
    rows: List[List[str]] = []
    for r in quality['rows']:
        if r.get('status'):
            rows.append([r['label'], r['status']] + ['n/a'] *
                        (len(cols) - 1))
        else:
            rows.append([r['label']] +
                        [_cell(r['metrics'], k, d) for k, _, d in cols])
    for key, label in PRIOR_ROWS:
        m = quality['priors'].get(key)
        if m is None:
            continue
        rows.append([f'*{label}*'] + [_cell(m, k, d) for k, _, d in cols])
    text = [f'# {quality["title"]}', '']
    if quality.get('description'):
        text += [quality['description'], '']
    text += [markdown_table(header, rows,
                            [':---'] + ['---:'] * (len(header) - 1)), '']
    text += [
        'Measured against the true masks of `' + quality['ann_file'] +
        '` (fakes with a non-empty mask > ' + f'{quality["mask_thr"]:g}' +
        ', maps and masks at ' + 'x'.join(map(str, quality['map_size'])) +
        '; MapQualityMetric). Lead with **paired map-AUC**: inside the true '
        'mask, the fake\'s map against the same pixels of its real twin\'s '
        'map; a position prior scores 0.5. Pixel AUC, IoU and the pointing '
        'game mean something only beside the position-prior rows (*italic*'
        '), which never look at the face. Real twins\' maps: the model\'s '
        'map of the real frame for model-based sources; all zeros for '
        'comparison sources (the real frame compared with itself, as its '
        'training target) and for annotation masks.', ''
    ]
    text += region_markdown(quality)
    text += faithfulness_markdown(quality)
    if quality.get('no_map'):
        text += ['No map (not in this table): ' +
                 ', '.join(quality['no_map']) + '.', '']
    text += [f'- spec: `{quality["spec"]}`',
             f'- work dir: `{quality["work_dir"]}`']
    return '\n'.join(text) + '\n'
