# Copyright (c) mmfocus contributors.
"""The app's HTTP side: a Starlette application serving one static page
and a small JSON API, run by uvicorn on the loopback interface.

Routes:
    ``GET /``: the page (``static/index.html``); ``GET /static/...`` its
    script and style sheet. Every response carries a Content-Security-Policy
    that allows nothing but this server (no CDN, no fonts, no analytics).
    ``GET /api/info``: the model (config, checkpoint, device, threshold),
    the limits and the demo faces.
    ``GET /api/demo/<name>``: a demo photo.
    ``POST /api/jobs``: the request body is the file (its name in the
    ``X-Filename`` header), or ``?demo=<name>`` for a demo photo; answers
    ``202`` with the job id, ``413`` when the file is larger than the
    limit (checked while it streams in), ``400`` for a file type the
    app does not take, ``503`` when the queue is full.
    ``GET /api/jobs/<id>``: the job's state, progress and result.
Errors are JSON ``{"error": message}``.
"""
import os.path as osp
import shutil
from contextlib import asynccontextmanager
from typing import Dict, Optional
from urllib.parse import unquote

from mmfocus.utils.video import VIDEO_EXTS
from .jobs import IMAGE_EXTS, AppLimits, JobQueue, demo_faces, file_kind

__all__ = ['CSP', 'STATIC_DIR', 'create_app', 'is_loopback']

STATIC_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'static')
#: how much of a refused (too large) upload is still read and dropped so
#: that the client gets the 413 message; beyond it the connection is closed
DISCARD_BYTES = 16 * 2**20
#: nothing but this server: no CDN, no inline script, no external request
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
_HEADERS = {'Content-Security-Policy': CSP,
            'X-Content-Type-Options': 'nosniff',
            'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store'}


def create_app(inferencer, info: Dict, limits: Optional[AppLimits] = None,
               demo_dir: Optional[str] = None):
    """The Starlette application around a loaded inferencer.

    Args:
        inferencer: A :class:`~mmfocus.apis.FocusInferencer`.
        info (dict): What the page shows about the model (``config``,
            ``checkpoint``, ``device``).
        limits (AppLimits, optional): Upload and video limits.
        demo_dir (str, optional): Folder of demo photos offered on the page.

    Returns:
        starlette.applications.Starlette: The application; its ``state``
        holds the :class:`~mmfocus.app.jobs.JobQueue`.
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import ClientDisconnect
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    limits = limits or AppLimits()
    demos = demo_faces(demo_dir)
    queue = JobQueue(inferencer, limits)

    def error(status: int, msg: str) -> JSONResponse:
        return JSONResponse({'error': msg}, status_code=status)

    async def index(request):
        return FileResponse(osp.join(STATIC_DIR, 'index.html'))

    async def api_info(request):
        return JSONResponse(dict(
            info, threshold=inferencer.threshold,
            max_upload_mb=limits.max_upload_mb,
            max_upload_bytes=limits.max_upload_bytes,
            max_video_seconds=limits.max_video_seconds,
            max_video_frames=limits.max_video_frames,
            image_exts=list(IMAGE_EXTS), video_exts=list(VIDEO_EXTS),
            demo=list(demos)))

    async def api_demo(request):
        path = demos.get(request.path_params['name'])
        if path is None:
            return error(404, 'no such demo face')
        return FileResponse(path)

    async def api_submit(request):
        if queue.active() >= limits.max_queue:
            return error(503, f'busy: {limits.max_queue} files are already '
                         'waiting; try again when they are done')
        demo = request.query_params.get('demo')
        if demo is not None:
            path = demos.get(demo)
            if path is None:
                return error(404, f'no such demo face: {demo}')
            job = queue.submit(demo, 'image', path, remove_path=False)
            return JSONResponse({'id': job.id}, status_code=202)
        name = unquote(request.headers.get('x-filename', '')).strip()
        if not name:
            return error(400, 'no file name: send the file with an '
                         'X-Filename header')
        kind = file_kind(name)
        if kind is None:
            return error(400, f'{osp.basename(name)}: not a file type this '
                         f'app takes; choose an image '
                         f'({", ".join(IMAGE_EXTS)}) or a video '
                         f'({", ".join(VIDEO_EXTS)})')
        too_big = (f'{osp.basename(name)} is larger than the upload limit '
                   f'of {limits.max_upload_mb:g} MB (start the app with '
                   '--max-upload-mb to change it)')
        declared = request.headers.get('content-length')
        if declared and declared.isdigit() and \
                int(declared) > limits.max_upload_bytes:
            await discard_body(request)
            return error(413, too_big)
        path = queue.new_upload_path(name)
        size = 0
        with open(path, 'wb') as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_upload_bytes:
                    # refused: nothing more is written; what follows is
                    # read (to a bound) and dropped, see discard_body
                    if size > limits.max_upload_bytes + DISCARD_BYTES:
                        break
                    continue
                f.write(chunk)
        if size > limits.max_upload_bytes or size == 0:
            shutil.rmtree(osp.dirname(path), ignore_errors=True)
            return error(413, too_big) if size else error(
                400, f'{osp.basename(name)} is empty (zero bytes)')
        job = queue.submit(osp.basename(name), kind, path)
        return JSONResponse({'id': job.id}, status_code=202)

    async def discard_body(request, budget=DISCARD_BYTES):
        # read (and drop) what the client still sends, up to a bound, so it
        # reads the 413 instead of a reset connection (a client blocked in
        # writing the body never sees the answer); past the bound the
        # connection is closed on it
        seen = 0
        try:
            async for chunk in request.stream():
                seen += len(chunk)
                if seen > budget:
                    break
        except ClientDisconnect:  # the client went away: nothing to answer
            pass

    async def api_job(request):
        job = queue.get(request.path_params['job_id'])
        if job is None:
            return error(404, 'no such job (finished jobs are kept for a '
                         'while only)')
        return JSONResponse(job.status())

    async def not_found(request, exc):
        return Response('not found', status_code=404,
                        media_type='text/plain')

    @asynccontextmanager
    async def lifespan(app):
        yield
        queue.close()

    routes = [
        Route('/', index),
        Route('/api/info', api_info),
        Route('/api/demo/{name}', api_demo),
        Route('/api/jobs', api_submit, methods=['POST']),
        Route('/api/jobs/{job_id}', api_job),
        Mount('/static', StaticFiles(directory=STATIC_DIR), name='static'),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={404: not_found})
    app.state.queue = queue
    return app


class SecurityHeaders:
    """ASGI middleware: the CSP and the other headers of :data:`_HEADERS`
    on every response (static files included)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        from starlette.datastructures import MutableHeaders

        async def send_with_headers(message):
            if message['type'] == 'http.response.start':
                headers = MutableHeaders(scope=message)
                for k, v in _HEADERS.items():
                    headers.setdefault(k, v)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    import ipaddress
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

