# Copyright (c) mmfocus contributors.
"""Does a DFDC-size conversion keep its memory bounded? (issue 15 item 4)

Builds a DFDC test-set tree of ``--videos`` videos at DFDC's format
(1920 x 1080, 30 fps, H.264, ``--seconds`` long, one face per frame: a Face
Research Lab portrait from ``demo/faces/chips`` pasted on moving texture).
Only ``--distinct`` videos are encoded (x264 at 1080p is slow on few
cores); the others are hard links to them under their own names, so the
converter reads ``--videos`` files, each decoded, detected, cropped and
written in full. It then runs ``tools/dataset_converters/dfdc.py`` on the
tree and reads the resident set (VmRSS) of the converter and of all its
worker processes every ``--interval`` seconds, with the number of crops
written so far. Writes ``<work-dir>/convert_memory.json``: the samples, the
peak total RSS, and the RSS growth between the first and the last tenth of
the run (a leak grows with the videos done; a bounded run stays flat).

Example:
    python .dev_scripts/analysis/convert_memory.py --videos 1000 \\
        --distinct 4 --frames 10 --workers 2 --work-dir /tmp/dfdc_tree
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)


def _children() -> dict:
    """pid -> parent pid of every process."""
    out = {}
    for stat in glob.glob('/proc/[0-9]*/stat'):
        try:
            with open(stat) as f:
                text = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces
        rest = text.rsplit(')', 1)[1].split()
        out[int(stat.split('/')[2])] = int(rest[1])
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(root_pid: int):
    """(total MiB, per-process MiB) of ``root_pid`` and its descendants."""
    parent = _children()
    pids, todo = [root_pid], [root_pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        pids += kids
        todo += kids
    per = {p: _rss_kib(p) / 1024 for p in pids}
    return sum(per.values()), per


def build_tree(root: str, videos: int, distinct: int, seconds: float,
               size) -> dict:
    """Write the DFDC test tree (``<root>/test/*.mp4`` + metadata.json)."""
    import cv2

    from mmfocus.analysis.benchmark import write_synthetic_video
    test = osp.join(root, 'test')
    os.makedirs(test, exist_ok=True)
    chips = sorted(glob.glob(osp.join(ROOT, 'demo', 'faces', 'chips',
                                      'frl-london-*', 'neutral.jpg')))
    if len(chips) < distinct:
        raise FileNotFoundError(f'need {distinct} portraits under '
                                'demo/faces/chips/frl-london-*')
    made = []
    for i in range(distinct):  # beside test/, so not converted themselves
        path = osp.join(root, f'src{i:03d}.mp4')
        if not osp.isfile(path):
            made.append(write_synthetic_video(
                path, seconds, tuple(size), seed=i,
                face=cv2.imread(chips[i])))
    meta = {}
    for j in range(videos):
        name = f'v{j:05d}.mp4'
        dst = osp.join(test, name)
        if not osp.exists(dst):
            os.link(osp.join(root, f'src{j % distinct:03d}.mp4'), dst)
        meta[name] = dict(is_fake=j % 2)  # labels do not change the work
    with open(osp.join(test, 'metadata.json'), 'w') as f:
        json.dump(meta, f)
    return dict(generated=made)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--videos', type=int, default=1000)
    p.add_argument('--distinct', type=int, default=4)
    p.add_argument('--seconds', type=float, default=10.)
    p.add_argument('--size', type=int, nargs=2, default=[1920, 1080])
    p.add_argument('--frames', type=int, default=10)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--interval', type=float, default=2.)
    p.add_argument('--work-dir', required=True)
    p.add_argument('--extra', nargs=argparse.REMAINDER, default=[],
                   help='more arguments for dfdc.py (e.g. --decoder pyav)')
    args = p.parse_args(argv)
    tree = osp.join(args.work_dir, 'DFDC')
    out = osp.join(args.work_dir, 'converted')
    if osp.exists(out):
        raise SystemExit(f'{out} exists: remove it or use another --work-dir')
    t0 = time.time()
    info = build_tree(tree, args.videos, args.distinct, args.seconds,
                      args.size)
    build_s = time.time() - t0
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'dataset_converters',
                                    'dfdc.py'), tree, out,
           '--frames', str(args.frames), '--workers', str(args.workers),
           '--all-test-videos', *args.extra]
    log = open(osp.join(args.work_dir, 'convert.log'), 'w')
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    samples = []
    while proc.poll() is None:
        total, per = tree_rss_mb(proc.pid)
        crops = sum(len(fs) for _, _, fs in os.walk(out)
                    if fs) if osp.isdir(out) else 0
        samples.append(dict(t_s=round(time.time() - t0, 1),
                            rss_total_mb=round(total, 1),
                            processes=len(per),
                            rss_max_process_mb=round(max(per.values()), 1),
                            files_written=crops))
        time.sleep(args.interval)
    wall = time.time() - t0
    log.close()
    n = len(samples)
    tenth = max(1, n // 10)
    first = [s['rss_total_mb'] for s in samples[tenth:2 * tenth]]
    last = [s['rss_total_mb'] for s in samples[-tenth:]]
    res = dict(command=' '.join(cmd), returncode=proc.returncode,
               videos=args.videos, distinct=args.distinct,
               frames=args.frames, workers=args.workers,
               size=args.size, seconds=args.seconds, build_s=build_s,
               wall_s=wall, videos_s=args.videos / wall, **info,
               peak_rss_total_mb=max(s['rss_total_mb'] for s in samples),
               peak_rss_process_mb=max(s['rss_max_process_mb']
                                       for s in samples),
               rss_second_tenth_mb=sum(first) / len(first) if first else None,
               rss_last_tenth_mb=sum(last) / len(last),
               samples=samples)
    with open(osp.join(args.work_dir, 'convert_memory.json'), 'w') as f:
        json.dump(res, f, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != 'samples'},
                     indent=1))
    return 0 if proc.returncode == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
