"""Helpers of the app tests: the app started as a user starts it
(``python -m mmfocus.app``) on a free loopback port with the shipped demo
model, and small videos of a demo face."""
import json
import os
import os.path as osp
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'demo', 'faces', 'photos')
FACE = '2008_001009.jpg'  # two faces
CONFIG = osp.join(ROOT, 'configs', 'focus', 'vit-demo_demo-sbi.py')
CHECKPOINT = osp.join(ROOT, 'checkpoints', 'focus_vit-demo_demo-sbi.pth')
# what the app fixture is started with
LIMITS = dict(max_upload_mb=1.0, max_video_seconds=2.5, max_video_frames=8)


class App:
    """A running app: its URL, process, output and temporary folder."""

    def __init__(self, url, proc, seen, lines, tmp):
        self.url, self.proc, self.tmp = url, proc, tmp
        self.seen, self._lines = seen, lines

    def output(self):
        """Everything the app printed so far (stdout and stderr)."""
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        return ''.join(self.seen)

    def request(self, path, data=None, headers=None, method=None):
        """``(status, headers, body bytes)`` of one HTTP request."""
        req = urllib.request.Request(self.url.rstrip('/') + path, data=data,
                                     headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path, **kw):
        status, _, body = self.request(path, **kw)
        return status, json.loads(body)

    def stop(self, timeout=30):
        """Ctrl+C, as a user stops it; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        time.sleep(0.1)  # the reader thread takes the last lines
        return code


def start_app(tmp, extra=(), tool=('-m', 'mmfocus.app')):
    """``python <tool> --port 0 <the test limits> <extra>`` (later options
    win); returns the :class:`App` once it prints its URL."""
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1', TMPDIR=str(tmp))
    env.pop('MMFOCUS_DEBUG', None)
    args = [sys.executable] + list(tool) + ['--port', '0',
            '--max-upload-mb', str(LIMITS['max_upload_mb']),
            '--max-video-seconds', str(LIMITS['max_video_seconds']),
            '--max-video-frames', str(LIMITS['max_video_frames'])]
    proc = subprocess.Popen(args + list(extra), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen = []
    while True:
        try:
            line = lines.get(timeout=180)
        except queue.Empty:
            proc.kill()
            raise AssertionError('the app did not start:\n' + ''.join(seen))
        if line is None:
            raise AssertionError('the app exited:\n' + ''.join(seen))
        seen.append(line)
        m = re.match(r'mmfocus app: serving (http://\S+)', line)
        if m:
            return App(m.group(1), proc, seen, lines, tmp)


def write_clip(path, seconds, fps=10, name=FACE):
    """A video of a demo photo sliding by a pixel per frame."""
    img = cv2.imread(osp.join(DEMO, name))
    h, w = img.shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                         (w, h))
    assert vw.isOpened()
    for i in range(int(round(seconds * fps))):
        vw.write(cv2.warpAffine(img, np.float32([[1, 0, i], [0, 1, 0]]),
                                (w, h)))
    vw.release()
    return str(path)
