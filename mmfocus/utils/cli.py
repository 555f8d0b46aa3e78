# Copyright (c) mmfocus contributors.
"""One clear error line for bad input in the command-line tools."""
import functools
import json
import os
import os.path as osp
import sys

from .io import atomic_write_json

# Errors that mean "bad input" (a missing or corrupt file, a wrong key, an
# unknown registry type, a mismatched checkpoint) or a failed write (a full
# disk, no permission: any OSError); anything else keeps its full traceback.
INPUT_ERRORS = (FileNotFoundError, FileExistsError, OSError, KeyError,
                ValueError, RuntimeError, TypeError)


def _one_line(e: BaseException) -> str:
    msg = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    lines = [ln.strip() for ln in msg.strip().splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    if any('Original Traceback' in ln for ln in lines):
        return lines[-1]  # the worker's own error, not the wrapper's
    return lines[0]


def _os_error_line(e: OSError) -> str:
    """``<path>: <cause>`` of an ``OSError`` that names its file (e.g.
    ``.../iter_4.pth: No space left on device``)."""
    cause = e.strerror or _one_line(e)
    if e.filename2 is not None:
        return f'{e.filename} -> {e.filename2}: {cause}'
    return f'{e.filename}: {cause}'


def add_launcher_args(parser, launchers=('none', 'pytorch', 'slurm', 'mpi'),
                      help: str = 'job launcher') -> None:
    """Add ``--launcher`` and ``--local_rank`` (set by older launchers) to
    a tool's parser; :func:`export_local_rank` passes the rank on."""
    parser.add_argument('--launcher', choices=list(launchers),
                        default='none', help=help)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def add_model_args(parser) -> None:
    """Add ``--config`` and ``--checkpoint``, defaulting to the demo model
    (:data:`mmfocus.utils.config_index.DEMO_CONFIG` / ``DEMO_CHECKPOINT``),
    to a tool that runs one trained model (tools/infer.py, the app)."""
    from .config_index import DEMO_CHECKPOINT, DEMO_CONFIG
    parser.add_argument('--config', default=DEMO_CONFIG,
                        help='model config (default: the demo config)')
    parser.add_argument('--checkpoint', default=DEMO_CHECKPOINT,
                        help='local checkpoint file (default: the shipped '
                        'demo checkpoint)')


def export_local_rank(args) -> None:
    """``LOCAL_RANK`` from ``--local_rank`` unless the launcher set it."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)


def cli_main(fn):
    """Run ``fn``; print ``error: <one line>`` and exit 1 on bad input.

    Set ``MMFOCUS_DEBUG=1`` to see the traceback instead.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if os.environ.get('MMFOCUS_DEBUG'):
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except INPUT_ERRORS as e:
            # an error whose message already says where and what (e.g.
            # 'cfg.py:3: SyntaxError: ...') is printed without its type
            what = _one_line(e) if getattr(e, 'located', False) else \
                f'{type(e).__name__}: {_one_line(e)}'
            if isinstance(e, OSError) and e.filename is not None:
                what = _os_error_line(e)  # a full disk: path and cause
            print(f'error: {what} (MMFOCUS_DEBUG=1 shows the traceback)',
                  file=sys.stderr)
            sys.exit(1)

    return wrapper


def save_result_json(path: str, result) -> None:
    """Write a tool's ``--out`` JSON atomically and say whether it was new
    (``Wrote``) or replaced an earlier result (``Replaced``): a benchmark
    rerun with the same ``--out`` supersedes the old figures, never
    silently."""
    existed = osp.exists(path)
    # a JSON round trip first: a value JSON cannot hold fails before the
    # old file is touched
    atomic_write_json(path, json.loads(json.dumps(result)))
    print(f'{"Replaced" if existed else "Wrote"} {osp.abspath(path)}')
