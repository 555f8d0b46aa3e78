# Copyright (c) mmfocus contributors.
"""The app's work queue: one uploaded file (or demo face) per job, run one
at a time by a single worker thread (the model is shared and not
thread-safe), with its progress, rate and ETA while it runs.

Uploads are written under a private temporary folder, named as the user
named them (so messages name the user's file), and removed when their job
ends; finished jobs are kept for the page to fetch, the oldest dropped
beyond ``keep``.
"""
import math
import os
import os.path as osp
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from mmfocus.apis.inference import read_image
from mmfocus.apis.outputs import one_line
from mmfocus.utils.video import VIDEO_EXTS, open_video
from .render import render_image, render_video

__all__ = ['IMAGE_EXTS', 'AppLimits', 'Job', 'JobQueue', 'demo_faces',
           'file_kind', 'safe_name']

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


@dataclass
class AppLimits:
    """What the app accepts.

    Args:
        max_upload_mb (float): Largest upload. Defaults to 50.
        max_video_seconds (float): Longest video. Defaults to 60.
        max_video_frames (int): Frames scored per video at most; longer
            videos are sampled evenly (every n-th frame). Defaults to 64.
        max_queue (int): Jobs waiting or running at most. Defaults to 4.
    """
    max_upload_mb: float = 50.0
    max_video_seconds: float = 60.0
    max_video_frames: int = 64
    max_queue: int = 4

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def file_kind(name: str) -> Optional[str]:
    """``'image'``, ``'video'`` or None, by the file name's extension."""
    low = name.lower()
    if low.endswith(VIDEO_EXTS):
        return 'video'
    if low.endswith(IMAGE_EXTS):
        return 'image'
    return None


def safe_name(name: str) -> str:
    """The base name of an upload, reduced to safe characters."""
    base = osp.basename(name.replace('\\', '/')).strip()
    base = re.sub(r'[^A-Za-z0-9._ -]+', '_', base).strip(' .')
    return base[-120:] or 'upload'


@dataclass
class Job:
    """One file being analysed."""
    id: str
    name: str
    kind: str
    path: str
    state: str = 'queued'  # queued | running | done | error
    done: int = 0
    total: Optional[int] = None
    started: Optional[float] = None
    finished: Optional[float] = None
    result: Optional[dict] = None
    error: Optional[str] = None
    remove_path: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self) -> Dict[str, Any]:
        """The job as the page polls it: state, progress (``done`` of
        ``total`` frames, rate per second, ETA in seconds) and, once
        finished, the result or the error message."""
        with self.lock:
            out: Dict[str, Any] = dict(id=self.id, name=self.name,
                                       kind=self.kind, state=self.state)
            now = self.finished or time.time()
            elapsed = None if self.started is None else now - self.started
            rate = (self.done / elapsed if elapsed and self.done else None)
            eta = None
            if rate and self.total and self.state == 'running':
                eta = max(0.0, (self.total - self.done) / rate)
            out['progress'] = dict(done=self.done, total=self.total,
                                   rate=rate, eta=eta, elapsed=elapsed)
            if self.state == 'done':
                out['result'] = self.result
            if self.state == 'error':
                out['error'] = self.error
            return out


class JobQueue:
    """Jobs run in order by one worker thread.

    Args:
        inferencer: A :class:`~mmfocus.apis.FocusInferencer` (maps kept).
        limits (AppLimits): What is accepted.
        keep (int): Finished jobs kept for the page. Defaults to 32.
    """

    def __init__(self, inferencer, limits: AppLimits, keep: int = 32
                 ) -> None:
        self.inferencer = inferencer
        self.limits = limits
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix='mmfocus-app-')
        self.jobs: 'OrderedDict[str, Job]' = OrderedDict()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(1, thread_name_prefix='mmfocus-app')

    # ------------------------------------------------------------ intake
    def active(self) -> int:
        with self.lock:
            return sum(j.state in ('queued', 'running')
                       for j in self.jobs.values())

    def new_upload_path(self, name: str) -> str:
        """A fresh private folder for one upload; the file's path in it."""
        folder = osp.join(self.tmp, uuid.uuid4().hex)
        os.makedirs(folder)
        return osp.join(folder, safe_name(name))

    def submit(self, name: str, kind: str, path: str,
               remove_path: bool = True) -> Job:
        """Queue the file at ``path`` (shown as ``name``)."""
        job = Job(id=uuid.uuid4().hex[:12], name=name, kind=kind, path=path,
                  remove_path=remove_path)
        with self.lock:
            self.jobs[job.id] = job
            finished = [k for k, j in self.jobs.items()
                        if j.state in ('done', 'error')]
            for k in finished[:max(0, len(finished) - self.keep)]:
                del self.jobs[k]
        self.pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Optional[Job]:
        with self.lock:
            return self.jobs.get(job_id)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------ work
    def _message(self, job: Job, msg: str) -> str:
        """A message naming the user's file, not the temporary path."""
        return msg.replace(job.path, job.name).replace(
            osp.dirname(job.path) + os.sep, '')

    def _run(self, job: Job) -> None:
        with job.lock:
            job.state, job.started = 'running', time.time()
        try:
            result = (self._video(job) if job.kind == 'video'
                      else self._image(job))
            with job.lock:
                job.result, job.state = result, 'done'
        except Exception as e:  # shown on the page, the app goes on
            with job.lock:
                job.error = self._message(job, one_line(e))
                job.state = 'error'
        finally:
            with job.lock:
                job.finished = time.time()
            if job.remove_path:
                shutil.rmtree(osp.dirname(job.path), ignore_errors=True)

    def _summary(self, job: Job, res: dict) -> dict:
        if res.get('error'):
            raise ValueError(res['error'])
        return dict(name=job.name, kind=job.kind, score=res.get('score'),
                    label=res.get('label'),
                    threshold=self.inferencer.threshold,
                    grey=bool(res.get('grey', False)),
                    warnings=list(res.get('warnings') or []))

    def _image(self, job: Job) -> dict:
        inf = self.inferencer
        img = read_image(job.path, max_side=inf.max_image_side)
        with job.lock:
            job.total = 1
        [res] = inf(img, return_maps=True)
        out = self._summary(job, res)
        with job.lock:
            job.done = 1
        out['view'] = render_image(img, res, inf.crop_size)
        return out

    def _video(self, job: Job) -> dict:
        inf = self.inferencer
        cap, fps, total = open_video(job.path)
        cap.release()
        seconds = total / fps if total > 0 and fps > 0 else None
        limit = self.limits.max_video_seconds
        if seconds is not None and seconds > limit:
            raise ValueError(
                f'video too long: {job.name} is {seconds:.1f} s, this app '
                f'takes at most {limit:g} s (start it with '
                '--max-video-seconds to change that)')
        most = self.limits.max_video_frames
        stride = max(1, math.ceil(total / most)) if total > 0 else 1
        # an unknown length: the frame budget covers the time limit
        max_frames = most if total > 0 else max(
            1, min(most, int(limit * (fps or 25.0))))

        def progress(done: int, est: Optional[int]) -> None:
            with job.lock:
                job.done, job.total = done, est

        [res] = inf(job.path, video_stride=stride, max_frames=max_frames,
                    return_maps=True, progress=progress)
        out = self._summary(job, res)
        out['stride'] = stride
        out['view'] = render_video(job.path, res, inf.crop_size)
        return out


def demo_faces(folder: Optional[str]) -> Dict[str, str]:
    """The demo photos the page offers: file name -> path."""
    if not folder or not osp.isdir(folder):
        return {}
    return {f: osp.join(folder, f) for f in sorted(os.listdir(folder))
            if file_kind(f) == 'image' and osp.isfile(osp.join(folder, f))}

