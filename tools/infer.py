# Copyright (c) mmfocus contributors.
"""Find and score every face of photos, folders and videos; write the
results (JSON) and overlays (manipulation map, box and score per face).

Example:
    python tools/infer.py demo/faces/photos/2008_001009.jpg \
        --out-dir work_dirs/infer/photo

Defaults: the demo config and the shipped demo checkpoint. Bad inputs (not
an image, zero-byte or corrupt file or video, no face, too large) are listed
with their error; the rest is processed. See
docs/en/user_guides/inference.md.
"""
import argparse
import datetime
import os.path as osp

from mmfocus.utils.cli import add_model_args, cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='FoCus inference on images, folders and videos')
    p.add_argument('inputs', nargs='+', metavar='INPUT',
                   help='image file, folder (its files), or video file '
                   '(.mp4/.avi/.mov/.mkv)')
    add_model_args(p)
    p.add_argument('--out-dir', default=None,
                   help='output folder for results.json, results.jsonl (one '
                   'line per input, written as they finish) and vis/ '
                   '(default: work_dirs/infer/<time>)')
    p.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1...')
    p.add_argument('--video-stride', type=int, default=1,
                   help='use every N-th video frame')
    p.add_argument('--max-frames', type=int, default=None,
                   help='at most N frames per video')
    p.add_argument('--batch-size', type=int, default=16,
                   help='faces per forward pass')
    p.add_argument('--threshold', type=float, default=0.5,
                   help='fake-probability threshold of the labels')
    p.add_argument('--vis-map', choices=['map', 'map_fake'], default='map',
                   help='map drawn on the overlays')
    p.add_argument('--max-image-side', type=int, default=8000, metavar='PX',
                   help='refuse images (and video frames) with a longer '
                   'side above PX, before decoding them; 0 for no limit '
                   '(default: 8000)')
    p.add_argument('--overwrite', action='store_true',
                   help='replace an existing OUT_DIR/results.json')
    p.add_argument('--no-progress', action='store_true',
                   help='no progress bars')
    return p.parse_args(argv)


def _box(box) -> str:
    return '(' + ', '.join(str(int(round(v))) for v in box) + ')'


def summary_table(results, threshold: float = 0.5) -> str:
    """One line per input (file, kind, faces/frames, score, label, error or
    note), under each image one line per face (``face i`` with its box, its
    score and label; ``rejected`` with the reason it was not scored), and
    the rule that makes an image's score from its faces."""
    header = ('input', 'kind', 'faces', 'score', 'label', 'error / note')
    rows = [header]
    for r in results:
        if r['kind'] == 'video':
            n = r.get('num_frames', 0)
            faces = f'{n - r.get("num_frames_without_face", 0)}/{n} frames'
        else:
            faces = str(len(r.get('faces') or []))
        score = '-' if r.get('score') is None else f'{r["score"]:.3f}'
        note = r.get('error') or r.get('search') or ''
        if r.get('grey'):
            note = (note + '; ' if note else '') + 'grey image'
        rows.append((r['input'], r['kind'], faces, score,
                     r.get('label') or '-', note))
        if r['kind'] != 'image':
            continue
        for i, f in enumerate(r.get('faces') or [], 1):
            if f.get('score') is None:
                continue
            rows.append((f'  face {i} {_box(f["box"])}', 'face', '',
                         f'{f["score"]:.3f}', f.get('label') or '-',
                         f'det {f["det_score"]:.2f}' +
                         ('; grey' if f.get('grey') else '')))
        for f in r.get('rejected_faces') or []:
            rows.append((f'  rejected {_box(f["box"])}', 'face', '', '-',
                         '-', f'not scored: {f["reason"]}'))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for i, row in enumerate(rows):
        lines.append('  '.join(c.ljust(w) for c, w in zip(row, widths)) +
                     '  ' + row[5])
        if i == 0:
            lines.append('-' * (sum(widths) + 2 * 5 + len(header[5])))
    lines.append(f'image score = max over its faces; video score = mean '
                 f'over frames of the frame max; fake if score >= '
                 f'{threshold:g}')
    return '\n'.join(line.rstrip() for line in lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'infer',
        datetime.datetime.now().strftime('%Y%m%d_%H%M%S'))
    results_file = osp.join(out_dir, 'results.json')
    if osp.exists(results_file) and not args.overwrite:
        # before the model is loaded
        raise FileExistsError(f'{results_file} exists (choose another '
                              '--out-dir or pass --overwrite)')
    for name, value in (('--video-stride', args.video_stride),
                        ('--max-frames', args.max_frames),
                        ('--batch-size', args.batch_size),
                        ('--max-image-side', args.max_image_side or None)):
        if value is not None and value < 1:
            raise ValueError(f'{name} must be >= 1, got {value}')
    from mmfocus.apis import FocusInferencer
    from mmfocus.apis.inferencer import ResultsNotSavedError
    inferencer = FocusInferencer(
        args.config, args.checkpoint, device=args.device,
        batch_size=args.batch_size, threshold=args.threshold,
        vis_map=args.vis_map, show_progress=not args.no_progress,
        max_image_side=args.max_image_side or None)
    try:
        results = inferencer(args.inputs, out_dir=out_dir,
                             video_stride=args.video_stride,
                             max_frames=args.max_frames,
                             overwrite=args.overwrite, return_maps=False)
    except ResultsNotSavedError as e:
        # a full disk: the scores still reach the user, then one error line
        print(summary_table(e.results, args.threshold))
        raise
    print(summary_table(results, args.threshold))
    bad = sum(1 for r in results if r.get('error'))
    print(f'\n{len(results)} input(s), {bad} with an error; results: '
          f'{results_file}, overlays: {osp.join(out_dir, "vis")}')
    return 0


if __name__ == '__main__':
    cli_main(main)()
