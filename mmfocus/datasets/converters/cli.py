# Copyright (c) mmfocus contributors.
"""Command-line options shared by ``tools/dataset_converters/*.py``."""
import argparse
import os.path as osp
from typing import Optional

from .engine import DEFAULT_DETECTOR, format_summary


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add the sampling, cropping, detector and run options."""
    parser.add_argument('--frames', type=int, default=10,
                        help='frames sampled evenly per video (frame mode)')
    parser.add_argument('--clips', type=int, default=None, metavar='K',
                        help='clip mode (for video models): K clips per '
                        'video, each of --clip-len consecutive frames of one '
                        'face track with one fixed crop; --frames is then '
                        'not used (default: frame mode)')
    parser.add_argument('--clip-len', type=int, default=None, metavar='T',
                        help='consecutive frames per clip (with --clips)')
    parser.add_argument('--workers', type=int, default=1,
                        help='face-detection processes')
    parser.add_argument('--shard', metavar='I/N', default=None,
                        help='process only the I-th of N shards (0-based; '
                        'e.g. $SLURM_ARRAY_TASK_ID/N)')
    parser.add_argument('--merge-only', action='store_true',
                        help='only write the annotation files and the '
                        'report from the per-video records of all shards')
    parser.add_argument('--margin', type=float, default=1.3,
                        help='crop side relative to the face extent')
    parser.add_argument('--size', type=int, default=224, help='crop side')
    parser.add_argument('--detector', default='dlib',
                        choices=['dlib', 'retinaface'],
                        help='face detector backend (dlib: offline HOG + 68 '
                        'landmarks; retinaface: needs --detector-weights)')
    parser.add_argument('--detector-weights', default=None,
                        help='local RetinaFace weights: an ONNX file (e.g. '
                        'det_10g.onnx, insightface on the CPU) or a PyTorch '
                        '.pth (mobilenet0.25_Final.pth: batched over each '
                        'video\'s frames, on the GPU when there is one)')
    parser.add_argument('--detector-device', default='auto',
                        help='device of the PyTorch RetinaFace: auto (CUDA '
                        'when present), cpu, cuda or cuda:N (default auto)')
    parser.add_argument('--detector-batch', type=int, default=None,
                        metavar='N', help='frames per forward pass of the '
                        'PyTorch RetinaFace (default 16 on a GPU, 1 on the '
                        'CPU, where batching is slower)')
    parser.add_argument('--min-faces', type=int, default=None,
                        help='list videos with fewer faces in report.json '
                        '(default: half of --frames; in clip mode: fewer '
                        'clips, default --clips)')
    parser.add_argument('--pack-shards', action='store_true',
                        help='when the annotation files are written, also '
                        'pack each into <out>/packed/ (memory-mapped .npy '
                        'shards of the decoded faces and masks plus packed '
                        'annotations: train with data_root=<out>/packed; '
                        'frame mode only; see pack_shards.py)')
    parser.add_argument('--faces-per-shard', type=int, default=4096,
                        metavar='N',
                        help='faces per shard at most (with --pack-shards)')
    parser.add_argument('--decoder', choices=['opencv', 'pyav'],
                        default='opencv',
                        help='video decoder of frame mode: opencv or pyav '
                        '(PyAV, FFmpeg threads; the same frames)')
    parser.add_argument('--decode-threads', type=int, default=0,
                        metavar='N',
                        help='--decoder pyav: FFmpeg decoding threads per '
                        'video (default 0: FFmpeg\'s choice)')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')


def add_train_args(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--include-train`` (also convert ``what``) and
    ``--real-oversample`` (for the test-first datasets: Celeb-DF, DFDC,
    DFDC preview, WildDeepfake)."""
    parser.add_argument('--include-train', action='store_true',
                        help=f'also convert {what}')
    parser.add_argument('--real-oversample', type=int, default=1,
                        metavar='K',
                        help='repeat each real train entry K times')


def detector_cfg(name: str, weights: Optional[str] = None,
                 device: str = 'auto',
                 batch_size: Optional[int] = None) -> dict:
    """Detector config of a ``--detector`` choice.

    ``retinaface`` takes its backend from the weight file: an ``.onnx``
    file runs through insightface + onnxruntime (CPU), a PyTorch file
    (``.pth`` / ``.pt`` / ``.tar``) through
    :class:`~mmfocus.faces.retinaface.TorchRetinaFaceDetector`, batched
    over each video's sampled frames on ``device``. Both take dlib's 68
    landmarks inside RetinaFace's boxes (the crops and the landmark-based
    masks use them).

    Args:
        name (str): ``'dlib'`` or ``'retinaface'``.
        weights (str, optional): RetinaFace weight file.
        device (str): Device of the PyTorch RetinaFace. Defaults to
            ``'auto'``.
        batch_size (int, optional): Frames per forward pass of the PyTorch
            RetinaFace. Defaults to None (16 on a GPU, 1 on the CPU).

    Returns:
        dict: Config for :func:`mmfocus.faces.build_face_detector`.
    """
    if name == 'dlib':
        if weights:
            raise ValueError('--detector-weights is for --detector '
                             'retinaface')
        return dict(DEFAULT_DETECTOR)
    if name != 'retinaface':
        raise ValueError(f'unknown detector {name!r}')
    if not weights:
        raise ValueError('--detector retinaface needs --detector-weights '
                         '(a local .onnx or .pth file; nothing is '
                         'downloaded)')
    if not osp.isfile(weights):
        raise FileNotFoundError(f'RetinaFace weight file not found: '
                                f'{weights}')
    ext = osp.splitext(weights)[1].lower()
    if ext == '.onnx':
        return dict(type='RetinaFaceDetector', weights=osp.abspath(weights),
                    landmarks=68)
    if ext in ('.pth', '.pt', '.tar'):
        return dict(type='TorchRetinaFaceDetector',
                    weights=osp.abspath(weights), landmarks=68,
                    device=device, batch_size=batch_size)
    raise ValueError(f'--detector-weights {weights}: expected an .onnx '
                     f'(insightface) or a .pth / .pt / .tar (PyTorch '
                     f'RetinaFace-MobileNet0.25) file, got {ext or "no "}'
                     f'extension')


def common_kwargs(args: argparse.Namespace) -> dict:
    """Keyword arguments of the ``convert_*`` functions from the options."""
    return dict(
        frames=args.frames, workers=args.workers, shard=args.shard,
        margin=args.margin, size=args.size,
        detector=detector_cfg(args.detector, args.detector_weights,
                              args.detector_device, args.detector_batch),
        merge='only' if args.merge_only else 'auto',
        min_faces=args.min_faces, progress=not args.no_progress,
        clips=args.clips, clip_len=args.clip_len,
        pack_shards=args.pack_shards, faces_per_shard=args.faces_per_shard,
        decoder=args.decoder, decode_threads=args.decode_threads)


def print_summary(title: str, summary: dict) -> None:
    """Print a converter's summary."""
    print(f'{title} -> {summary["out_dir"]}')
    print(format_summary(summary))
    if summary['merged']:
        print(f'wrote the annotation files and report.json in '
              f'{summary["out_dir"]}')
    for split, s in (summary.get('packed') or {}).items():
        print(f'packed {split}: {s["faces"]} faces + {s["masks"]} masks in '
              f'{s["shards"]} shards -> {s["ann_file"]}')
