# Copyright (c) mmfocus contributors.
"""One self-contained HTML page for a test run: metrics, ROC, score
histograms and a sortable, filterable gallery of faces with their maps.

No network and no CDN: CSS, JS, figures and thumbnails are all inline (a
Content-Security-Policy in the page forbids anything else).

Example:
    python tools/test.py configs/focus/vit-demo_demo-sbi.py \
        checkpoints/focus_vit-demo_demo-sbi.pth --work-dir work_dirs/t \
        --out work_dirs/t/preds.json
    python tools/report.py work_dirs/t            # -> work_dirs/t/report.html
"""
import argparse
import os.path as osp

from mmfocus.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Build a self-contained HTML report of a test work dir')
    p.add_argument('work_dir', help='work dir of a tools/test.py run')
    p.add_argument('--out', help='output HTML file; default '
                   '<work_dir>/report.html')
    p.add_argument('--preds', help='predictions JSON (tools/test.py --out); '
                   'default: the one found in the work dir')
    p.add_argument('--metrics', help='mmengine JSON log with the test '
                   'metrics; default: the newest <ts>/<ts>.json in the work '
                   'dir (else frame-level metrics from the predictions)')
    p.add_argument('--maps-dir', help='ManipulationMapHook output with '
                   'overlay/ and raw/; default <work_dir>/maps/test')
    p.add_argument('--max-items', type=int, default=500,
                   help='most faces in the gallery, spread over the score '
                   'ranking (default 500)')
    p.add_argument('--thumb', type=int, default=112,
                   help='thumbnail size in pixels (default 112)')
    p.add_argument('--thr', type=float, default=0.5,
                   help='decision threshold on the fake score (default 0.5)')
    p.add_argument('--title', help='page title')
    p.add_argument('--overwrite', action='store_true',
                   help='replace an existing report')
    args = p.parse_args(argv)
    if args.max_items < 1 or args.thumb < 8:
        p.error('--max-items must be >= 1 and --thumb >= 8')
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.visualization.report import build_report_html, write_report
    out = args.out or osp.join(args.work_dir, 'report.html')
    if osp.exists(out) and not args.overwrite:
        raise FileExistsError(f'report exists: {out} (pass --overwrite to '
                              'replace it)')
    text = build_report_html(args.work_dir, preds_file=args.preds,
                             metrics_file=args.metrics,
                             maps_dir=args.maps_dir,
                             max_items=args.max_items, thumb=args.thumb,
                             thr=args.thr, title=args.title)
    write_report(out, text, overwrite=args.overwrite)
    print(f'report written: {out} ({len(text) / 1e6:.1f} MB)')
    return out


if __name__ == '__main__':
    cli_main(main)()
