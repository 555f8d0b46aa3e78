"""Fixtures of the app tests: one running app per module, the videos, the
in-process inferencer the app's scores are checked against."""
import pytest

from app_helpers import CHECKPOINT, CONFIG, start_app, write_clip


@pytest.fixture(scope='module')
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('app_tmp')
    a = start_app(tmp)
    yield a
    if a.proc.poll() is None:
        a.stop()


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('app_clips')
    return dict(ok=write_clip(tmp / 'two seconds.mp4', 2.0),
                long=write_clip(tmp / 'long.mp4', 3.0))


@pytest.fixture(scope='module')
def reference():
    """The inferencer the app wraps, run in this process on the same
    inputs: the scores the page must show."""
    from mmfocus.apis import FocusInferencer
    inf = FocusInferencer(CONFIG, CHECKPOINT, show_progress=False)
    return inf
