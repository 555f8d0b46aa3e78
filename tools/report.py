# Copyright (c) mmfocus contributors.
"""One self-contained HTML page per experiment work dir:

* a ``tools/test.py`` run: metrics, ROC, score histograms and a sortable,
  filterable gallery of faces with their maps;
* a map protocol (``tools/experiments/map_protocol.py``): the results and
  map-quality tables, per region type and per source, comparison sheets;
* a robustness study (``tools/analysis/robustness.py``): the AUC per
  perturbation type and level, the Table IV row and the plot.

The kind is found from the files in the work dir (``--kind`` forces it).
No network and no CDN: CSS, JS, figures and thumbnails are all inline (a
Content-Security-Policy in the page forbids anything else).

Example:
    python tools/test.py configs/focus/vit-demo_demo-sbi.py \
        checkpoints/focus_vit-demo_demo-sbi.pth --work-dir work_dirs/t \
        --out work_dirs/t/preds.json
    python tools/report.py work_dirs/t            # -> work_dirs/t/report.html
    python tools/report.py work_dirs/map_protocol_demo_quick
"""
import argparse
import os.path as osp

from mmfocus.utils.cli import cli_main

KINDS = ('test', 'protocol', 'robustness')
TEST_ONLY = ('preds', 'metrics', 'maps_dir')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Build a self-contained HTML report of a work dir: a '
        'tools/test.py run, a map protocol or a robustness study')
    p.add_argument('work_dir', help='work dir of tools/test.py, '
                   'tools/experiments/map_protocol.py or the --out-dir of '
                   'tools/analysis/robustness.py')
    p.add_argument('--kind', choices=KINDS,
                   help='the kind of work dir (default: found from its '
                   'files)')
    p.add_argument('--out', help='output HTML file; default '
                   '<work_dir>/report.html')
    p.add_argument('--title', help='page title')
    p.add_argument('--overwrite', action='store_true',
                   help='replace an existing report')
    t = p.add_argument_group('test work dirs')
    t.add_argument('--preds', help='predictions JSON (tools/test.py --out); '
                   'default: the one found in the work dir')
    t.add_argument('--metrics', help='mmengine JSON log with the test '
                   'metrics; default: the newest <ts>/<ts>.json in the work '
                   'dir (else frame-level metrics from the predictions)')
    t.add_argument('--maps-dir', help='ManipulationMapHook output with '
                   'overlay/ and raw/; default <work_dir>/maps/test')
    t.add_argument('--max-items', type=int, default=500,
                   help='most faces in the gallery, spread over the score '
                   'ranking (default 500)')
    t.add_argument('--thumb', type=int, default=112,
                   help='thumbnail size in pixels (default 112)')
    t.add_argument('--thr', type=float, default=0.5,
                   help='decision threshold on the fake score (default 0.5)')
    e = p.add_argument_group('protocol and robustness work dirs')
    e.add_argument('--max-sheets', type=int, default=24,
                   help='most comparison sheets on a protocol page (0: '
                   'none; default 24)')
    e.add_argument('--max-px', type=int, default=1600,
                   help='longest side of an inline sheet or plot; bigger '
                   'PNGs are downscaled (default 1600)')
    e.add_argument('--sheet-rows', type=int, default=3,
                   help='fakes per region-type sheet (default 3)')
    e.add_argument('--sheet-tile', type=int, default=64,
                   help='tile size of the composed sheets (default 64)')
    args = p.parse_args(argv)
    if args.max_items < 1 or args.thumb < 8:
        p.error('--max-items must be >= 1 and --thumb >= 8')
    if args.max_sheets < 0 or args.max_px < 64 or args.sheet_rows < 1 or \
            args.sheet_tile < 8:
        p.error('--max-sheets must be >= 0, --max-px >= 64, --sheet-rows '
                '>= 1 and --sheet-tile >= 8')
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.visualization.report import build_report_html, write_report
    from mmfocus.visualization.report.kinds import detect_kind
    from mmfocus.visualization.report.protocol_page import \
        build_protocol_html
    from mmfocus.visualization.report.robustness_page import \
        build_robustness_html
    out = args.out or osp.join(args.work_dir, 'report.html')
    if osp.exists(out) and not args.overwrite:
        raise FileExistsError(f'report exists: {out} (pass --overwrite to '
                              'replace it)')
    given = [f'--{k.replace("_", "-")}' for k in TEST_ONLY
             if getattr(args, k) is not None]
    kind = args.kind or ('test' if given else detect_kind(args.work_dir))
    if kind != 'test' and given:
        raise ValueError(f'{", ".join(given)}: for test work dirs only; '
                         f'{args.work_dir} is a {kind} work dir')
    if kind == 'test':
        text = build_report_html(args.work_dir, preds_file=args.preds,
                                 metrics_file=args.metrics,
                                 maps_dir=args.maps_dir,
                                 max_items=args.max_items, thumb=args.thumb,
                                 thr=args.thr, title=args.title)
    elif kind == 'protocol':
        text = build_protocol_html(args.work_dir, max_sheets=args.max_sheets,
                                   max_px=args.max_px,
                                   sheet_rows=args.sheet_rows,
                                   sheet_tile=args.sheet_tile,
                                   title=args.title)
    else:
        text = build_robustness_html(args.work_dir, max_px=args.max_px,
                                     title=args.title)
    write_report(out, text, overwrite=args.overwrite)
    print(f'report written: {out} ({kind}, {len(text) / 1e6:.1f} MB)')
    return out


if __name__ == '__main__':
    cli_main(main)()
