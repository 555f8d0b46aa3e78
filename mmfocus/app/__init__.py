# Copyright (c) mmfocus contributors.
"""The interactive local app: drop an image or a video (or pick a demo
face) into a page served on 127.0.0.1 and see every face's fake score, its
manipulation map and its Eq. 9 fake-evidence map as overlays (with an
opacity slider), the boxes on the full image and, for a video, the score of
every frame.

Run it with ``python -m mmfocus.app`` or ``python tools/app.py`` (see
``docs/en/user_guides/app.md``). Offline by construction: one static page
with its own script and style sheet, a Content-Security-Policy that allows
nothing but this server, no telemetry; Starlette + uvicorn
(``requirements/app.txt``).
"""
from .cli import main, parse_args
from .jobs import AppLimits, JobQueue
from .server import create_app

__all__ = ['AppLimits', 'JobQueue', 'create_app', 'main', 'parse_args']
