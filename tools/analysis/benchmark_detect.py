# Copyright (c) mmfocus contributors.
"""Face-detection throughput of the converters' detectors, in one run.

Runs each detector on the same frames, one ``detect_batch`` call per video
(as the converters call it), interleaved after a warm-up: dlib HOG (the
default detector, CPU) and the PyTorch RetinaFace-MobileNet0.25 at the
given batch sizes, on ``--device``. Prints frames/s [IQR], faces per frame
and, against the first detector, how often the largest faces agree.

Without ``--retinaface-weights`` the RetinaFace runs with random weights
whose face class never wins (no candidate reaches NMS): that times the
network, the decoding and the copies, which do not depend on the weights;
with a trained file a frame's handful of faces adds one small NMS. Without
``--videos`` the frames are ``--generate`` x ``--frames`` synthetic frames
of ``--size`` (default 1920 x 1080, DFDC's) with a demo photo pasted in.

Examples:
    python tools/analysis/benchmark_detect.py --device cpu --threads 2 \\
        --generate 4 --frames 10 --out work_dirs/bench/detect_cpu.json
    python tools/analysis/benchmark_detect.py --device cuda --fp16 \\
        --detectors dlib torch:1 torch:32 --frames 32 \\
        --retinaface-weights mobilenet0.25_Final.pth
    python tools/analysis/benchmark_detect.py --videos data/dfdc/*/*.mp4
"""
import argparse
import glob
import os.path as osp

from mmfocus.utils.cli import cli_main, save_result_json
from mmfocus.utils.config_index import checkout_root

PHOTOS = osp.join(checkout_root() or '', 'demo', 'faces', 'photos')


def parse_detector(spec: str):
    """``dlib`` | ``torch:B`` (RetinaFace, batch B) -> (label, spec)."""
    name, _, batch = spec.partition(':')
    if spec == 'dlib':
        return 'dlib', ('dlib', None)
    if name == 'torch' and batch.isdigit() and int(batch) >= 1:
        return f'retinaface-b{int(batch)}', ('torch', int(batch))
    raise ValueError(f'--detectors: {spec!r} is not dlib or torch:B '
                     '(B >= 1)')


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Frames/s of the converters\' face detectors (dlib HOG, '
        'batched PyTorch RetinaFace) on the same frames')
    p.add_argument('--detectors', nargs='+',
                   default=['dlib', 'torch:1', 'torch:10'],
                   help='dlib, or torch:B (RetinaFace, B frames per pass); '
                   'the first is the agreement reference')
    p.add_argument('--device', default='auto',
                   help='device of RetinaFace: auto, cpu, cuda, cuda:N')
    p.add_argument('--fp16', action='store_true',
                   help='RetinaFace in float16 (CUDA only)')
    p.add_argument('--retinaface-weights', default=None, metavar='PTH',
                   help='trained RetinaFace-MobileNet0.25 file (default: '
                   'random weights, no face found; the same work per '
                   'frame up to a small NMS)')
    p.add_argument('--max-side', type=int, default=640,
                   help='RetinaFace input: longer side (default 640)')
    p.add_argument('--videos', nargs='+', default=None,
                   help='videos whose sampled frames are detected')
    p.add_argument('--generate', type=int, default=2, metavar='N',
                   help='synthetic videos (N x --frames frames) without '
                   '--videos (default 2)')
    p.add_argument('--frames', type=int, default=10,
                   help='frames per video (default 10)')
    p.add_argument('--size', type=int, nargs=2, default=[1920, 1080],
                   metavar=('W', 'H'), help='synthetic frame size')
    p.add_argument('--threads', type=int, default=None,
                   help='torch / OpenCV threads (default: their own)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', default=None, help='write the result as JSON')
    p.add_argument('--no-progress', action='store_true')
    args = p.parse_args(argv)
    if args.frames < 1 or args.repeats < 1 or args.warmup < 0 or \
            args.generate < 1:
        p.error('need --frames >= 1, --generate >= 1, --repeats >= 1, '
                '--warmup >= 0')
    try:
        args.detectors = dict(parse_detector(s) for s in args.detectors)
    except ValueError as e:
        p.error(str(e))
    return args


def load_video_frames(videos, frames: int):
    """The converters' sampled frames of each video (videos with fewer
    decodable frames are skipped)."""
    from mmfocus.datasets.converters.video import (probe_frame_count,
                                                   read_frames,
                                                   sample_indices)
    out, used = [], []
    for v in videos:
        if not osp.isfile(v):
            raise FileNotFoundError(f'video not found: {v}')
        idx = sample_indices(probe_frame_count(v), frames)
        got, _ = read_frames(v, idx)
        if len(got) == frames:
            out.extend(got[i] for i in sorted(got))
            used.append(v)
    if not used:
        raise RuntimeError(f'none of the {len(videos)} videos gave '
                           f'{frames} decodable sampled frames')
    return out, used


def build_detectors(args):
    import torch

    from mmfocus.faces import build_face_detector
    from mmfocus.faces.detectors import DEFAULT_DETECTOR
    from mmfocus.faces.retinaface import (RetinaFaceNet,
                                          TorchRetinaFaceDetector,
                                          load_retinaface)
    net = None
    if any(kind == 'torch' for kind, _ in args.detectors.values()):
        if args.retinaface_weights:
            net = load_retinaface(args.retinaface_weights)
        else:
            torch.manual_seed(0)
            net = RetinaFaceNet().eval()
            for head in net.ClassHead:  # the face class never wins
                head.conv1x1.bias.data[1::2] -= 50.0
    dets = {}
    for label, (kind, batch) in args.detectors.items():
        if kind == 'dlib':
            dets[label] = build_face_detector(dict(DEFAULT_DETECTOR))
        else:
            dets[label] = TorchRetinaFaceDetector(
                net, batch_size=batch, device=args.device, fp16=args.fp16,
                max_side=args.max_side)
    return dets


def format_table(res: dict) -> str:
    lines = ['| detector | frames/s [IQR] | faces / frame | frames without '
             f'a face | largest face agrees with {res["reference"]} '
             '(IoU >= 0.5) |', '|---|---|---|---|---|']
    for label, r in res['detectors'].items():
        agree = ('-' if r['largest_iou_ge_05'] is None else
                 f'{r["largest_iou_ge_05"]:.3f} of {r["frames_compared"]}')
        lines.append(f'| {label} | {r["fps"]:.1f} [{r["fps_q1"]:.1f}, '
                     f'{r["fps_q3"]:.1f}] | {r["faces_per_frame"]:.2f} | '
                     f'{r["no_face"]} / {res["frames"]} | {agree} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    import cv2
    import torch

    from mmfocus.analysis.benchmark import (benchmark_detectors,
                                            environment_info,
                                            synthetic_frames)
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    if args.videos:
        frames, used = load_video_frames(args.videos, args.frames)
        videos, source = len(used), used
    else:
        photos = sorted(glob.glob(osp.join(PHOTOS, '*.jpg')))
        if not photos:
            raise FileNotFoundError(f'no demo photos under {PHOTOS}')
        videos = args.generate
        frames = synthetic_frames(photos, videos * args.frames,
                                  size=tuple(args.size))
        source = f'synthetic {args.size[0]}x{args.size[1]}'
    dets = build_detectors(args)
    device = next((str(d.device) for d in dets.values()
                   if hasattr(d, 'device')), 'cpu')
    res = benchmark_detectors(
        dets, frames, videos=videos, warmup=args.warmup,
        repeats=args.repeats, device=device if 'cuda' in device else None,
        progress=None if args.no_progress else 'detect')
    res.update(environment=environment_info(device), source=source,
               frames_per_video=args.frames, fp16=args.fp16,
               max_side=args.max_side, threads=args.threads,
               weights=args.retinaface_weights or 'random (no face found)')
    print(f'{res["frames"]} frames ({videos} videos of {args.frames}, '
          f'{source}); RetinaFace on {device}, weights: {res["weights"]}')
    print(format_table(res))
    if args.out:
        save_result_json(args.out, res)
    return res


if __name__ == '__main__':
    cli_main(main)()
