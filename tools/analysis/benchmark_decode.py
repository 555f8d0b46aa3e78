# Copyright (c) mmfocus contributors.
"""Video decoding throughput of the converters' decoders, in one run.

Reads the sampled frames of each video (as ``--frames`` makes the
converters sample them) with OpenCV and with PyAV in 1, 2 and FFmpeg's
choice of threads (``--decoder`` / ``--decode-threads`` of the converters),
interleaved after a warm-up; checks that every decoder reads the same
frames; prints frames/s decoded, sampled frames/s, videos/s and the
resident memory over the videos (``--memory-passes N`` reads them N times
more, untimed, to show whether it stays bounded). Without ``--videos`` it first writes
``--generate N`` synthetic H.264 videos at DFDC's resolution (1920 x 1080,
30 fps, ``--seconds`` long) into ``--work-dir``.

Examples:
    python tools/analysis/benchmark_decode.py --generate 4 --seconds 10 \\
        --frames 32 --out work_dirs/bench/decode_cpu.json
    python tools/analysis/benchmark_decode.py --videos data/dfdc/*/*.mp4 \\
        --frames 32 --decoders opencv pyav:4
    # 1,000 video reads per decoder: does the resident set stay flat?
    python tools/analysis/benchmark_decode.py --generate 4 --frames 10 \
        --memory-passes 250 --decoders opencv pyav:2
"""
import argparse
import os
import os.path as osp
import tempfile

from mmfocus.utils.cli import cli_main, save_result_json


def parse_decoder(spec: str):
    """``opencv`` | ``pyav`` | ``pyav:N`` -> (label, (decoder, threads))."""
    name, _, threads = spec.partition(':')
    if name not in ('opencv', 'pyav') or (threads and not threads.isdigit()):
        raise ValueError(f'--decoders: {spec!r} is not opencv, pyav or '
                         'pyav:N')
    n = int(threads or 0)
    label = name if name == 'opencv' else f'pyav-{n if n else "auto"}'
    return label, (name, n)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description='Frames/s of the converters\' video decoders (OpenCV, '
        'PyAV threads) on the same videos')
    p.add_argument('--videos', nargs='+', default=None,
                   help='videos to decode (default: --generate synthetic '
                   'ones)')
    p.add_argument('--generate', type=int, default=2, metavar='N',
                   help='synthetic 1920x1080 H.264 videos to write when no '
                   '--videos are given (default 2)')
    p.add_argument('--seconds', type=float, default=10.,
                   help='length of each synthetic video (default 10)')
    p.add_argument('--size', type=int, nargs=2, default=[1920, 1080],
                   metavar=('W', 'H'), help='synthetic video size')
    p.add_argument('--work-dir', default=None,
                   help='where synthetic videos go (default: a temporary '
                   'folder, removed after)')
    p.add_argument('--frames', type=int, default=10,
                   help='frames sampled per video (default 10)')
    p.add_argument('--decoders', nargs='+',
                   default=['opencv', 'pyav:1', 'pyav:2', 'pyav'],
                   help='opencv, pyav (FFmpeg\'s threads) or pyav:N')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--memory-passes', type=int, default=1, metavar='N',
                   help='untimed passes over the videos per decoder with '
                   'the resident set read after each video (default 1)')
    p.add_argument('--out', default=None, help='write the result as JSON')
    p.add_argument('--no-progress', action='store_true')
    args = p.parse_args(argv)
    if (args.frames < 1 or args.repeats < 1 or args.warmup < 0
            or args.memory_passes < 1):
        p.error('need --frames >= 1, --repeats >= 1, --warmup >= 0, '
                '--memory-passes >= 1')
    if args.videos is None and args.generate < 1:
        p.error('--generate must be >= 1 without --videos')
    try:
        args.decoders = dict(parse_decoder(s) for s in args.decoders)
    except ValueError as e:
        p.error(str(e))
    return args


def format_table(res: dict) -> str:
    lines = ['| decoder | threads | frames/s decoded [IQR] | sampled frames/s '
             '| videos/s | RSS: peak above base, growth over the reads, '
             'growth after pass 1 [MB] |',
             '|---|---|---|---|---|---|']
    n = res['decoded_frames']
    for label, r in res['decoders'].items():
        threads = '-' if r['decoder'] == 'opencv' else (r['threads'] or
                                                         'auto')
        lines.append(
            f'| {label} | {threads} | {r["decoded_fps"]:.0f} '
            f'[{n / r["q3_s"]:.0f}, {n / r["q1_s"]:.0f}] | '
            f'{r["sampled_fps"]:.1f} | {r["videos_s"]:.2f} | '
            f'{r["peak_rss_mb"] - r["rss_base_mb"]:.1f}, '
            f'{r["rss_growth_mb"]:+.1f}, '
            f'{r["rss_growth_after_pass1_mb"]:+.1f} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    from mmfocus.analysis.benchmark import (benchmark_decoders,
                                            environment_info,
                                            write_synthetic_video)

    tmp = None
    videos, made = args.videos, []
    if videos is None:
        folder = args.work_dir
        if folder is None:
            tmp = tempfile.TemporaryDirectory(prefix='mmfocus-decode-')
            folder = tmp.name
        os.makedirs(folder, exist_ok=True)
        for i in range(args.generate):
            path = osp.join(folder, f'synthetic_{i:04d}.mp4')
            if not osp.isfile(path):
                made.append(write_synthetic_video(
                    path, args.seconds, tuple(args.size), seed=i))
        videos = [osp.join(folder, f'synthetic_{i:04d}.mp4')
                  for i in range(args.generate)]
    try:
        missing = [v for v in videos if not osp.isfile(v)]
        if missing:
            raise FileNotFoundError(f'video not found: {missing[0]}')
        res = benchmark_decoders(
            videos, frames=args.frames, decoders=args.decoders,
            warmup=args.warmup, repeats=args.repeats,
            memory_passes=args.memory_passes, progress=None if args.no_progress else 'decode')
    finally:
        if tmp is not None:
            tmp.cleanup()
    res.update(environment=environment_info('cpu'), generated=made,
               sources=videos if args.videos else 'synthetic')
    print(f'{res["videos"]} videos, {args.frames} frames sampled each, '
          f'{res["decoded_frames"]} frames decoded per pass; memory over '
          f'{args.memory_passes * res["videos"]} reads per decoder')
    print(format_table(res))
    if args.out:
        save_result_json(args.out, res)
    return res


if __name__ == '__main__':
    cli_main(main)()
