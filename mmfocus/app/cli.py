# Copyright (c) mmfocus contributors.
"""Command line of the app: load the model, bind the port, serve.

Example:
    python -m mmfocus.app                         # demo model, 127.0.0.1:7860
    python -m mmfocus.app --config CFG --checkpoint CKPT --port 8080
"""
import argparse
import os.path as osp
import socket
import sys

from mmengine.config import DictAction
from mmfocus.utils.cli import add_model_args
from mmfocus.utils.config_index import checkout_root

from .jobs import AppLimits
from .server import create_app, is_loopback

__all__ = ['parse_args', 'main', 'DEFAULT_DEMO_DIR']

# a wheel carries no demo photos: then relative to the working folder
DEFAULT_DEMO_DIR = osp.join(checkout_root() or '', 'demo', 'faces',
                            'photos')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog='python -m mmfocus.app',
        description='Interactive local app: faces, fake scores and '
        'manipulation maps of an image or video, in the browser')
    add_model_args(p)
    p.add_argument('--device', default=None,
                   help='cpu, cuda, cuda:N (default: CUDA when present, '
                   'else the CPU)')
    p.add_argument('--host', default='127.0.0.1',
                   help='address to bind (default 127.0.0.1: this machine '
                   'only)')
    p.add_argument('--port', type=int, default=7860,
                   help='port (default 7860; 0 picks a free one)')
    p.add_argument('--max-upload-mb', type=float, default=50.0,
                   help='largest upload in MB (default 50)')
    p.add_argument('--max-video-seconds', type=float, default=60.0,
                   help='longest video in seconds (default 60)')
    p.add_argument('--max-video-frames', type=int, default=64,
                   help='frames scored per video; longer videos are '
                   'sampled evenly (default 64)')
    p.add_argument('--demo-dir', default=DEFAULT_DEMO_DIR,
                   help='folder of demo photos offered on the page '
                   '(default: demo/faces/photos of the checkout)')
    p.add_argument('--threshold', type=float, default=0.5,
                   help='fake-probability threshold of the labels')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   metavar='KEY=VALUE',
                   help='config overrides, e.g. model.map_norm=minmax '
                   '(Eq. 4 min-max maps instead of class posteriors)')
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error(f'--port must be in 0..65535, got {args.port}')
    if args.max_upload_mb <= 0 or args.max_video_seconds <= 0 or \
            args.max_video_frames < 1:
        p.error('--max-upload-mb and --max-video-seconds must be positive '
                'and --max-video-frames >= 1')
    return args


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f'cannot listen on {host}:{port}: '
                      f'{e.strerror} (choose another --port, or 0 for a '
                      'free one)') from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def main(argv=None) -> int:
    """Load the model, bind, serve until interrupted (Ctrl+C); once the
    port is bound, print (flushed) ``mmfocus app: serving <url>``."""
    args = parse_args(argv)
    for what, path in (('config', args.config),
                       ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} not found: {path} (pass '
                                    f'--{what})')
    import uvicorn

    from mmfocus.apis import FocusInferencer
    from mmfocus.utils.device import default_device
    device = default_device(args.device)
    inferencer = FocusInferencer(args.config, args.checkpoint, device=device,
                                 threshold=args.threshold,
                                 cfg_options=args.cfg_options,
                                 show_progress=False)
    limits = AppLimits(max_upload_mb=args.max_upload_mb,
                       max_video_seconds=args.max_video_seconds,
                       max_video_frames=args.max_video_frames)
    def shown(path):  # relative to the working dir when inside it
        rel = osp.relpath(osp.abspath(path))
        return path if rel.startswith('..') else rel

    info = dict(config=shown(args.config),
                checkpoint=shown(args.checkpoint), device=device)
    app = create_app(inferencer, info, limits, demo_dir=args.demo_dir)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    url = f'http://[{host}]:{port}/' if ':' in host else \
        f'http://{host}:{port}/'
    if not is_loopback(args.host):
        print(f'warning: listening on {args.host}: anyone who can reach '
              'this machine can upload files to the app', file=sys.stderr)
    print(f'mmfocus app: serving {url} (config {info["config"]}, device '
          f'{device}); Ctrl+C stops it', flush=True)
    config = uvicorn.Config(app, log_level='warning', access_log=False,
                            server_header=False, date_header=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C once it has shut down
        pass
    print('mmfocus app: stopped', flush=True)
    return 0
