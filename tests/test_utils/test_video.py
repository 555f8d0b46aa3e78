"""mmfocus.utils.video: opening, strided reading and atomic mp4 writing."""
import os

import cv2
import numpy as np
import pytest

from mmfocus.utils.video import (AtomicVideoWriter, open_video,
                                 read_frames)


def _frames(n, size=(48, 32)):
    w, h = size
    return [np.full((h, w, 3), 20 * i, np.uint8) for i in range(n)]


def test_atomic_writer_commit_and_close(tmp_path):
    path = str(tmp_path / 'v.mp4')
    writer = AtomicVideoWriter(path, 5, (48, 32))
    if not writer.opened:
        pytest.skip('no mp4v encoder in this OpenCV')
    assert os.path.basename(writer.tmp) == '.v.mp4.tmp.mp4'
    for f in _frames(5):
        writer.write(f)
    writer.write(np.zeros((64, 64, 3), np.uint8))  # resized to 48 x 32
    assert not os.path.exists(path)
    writer.commit()
    writer.close()
    assert os.path.exists(path) and not os.path.exists(writer.tmp)
    cap, fps, total = open_video(path)
    try:
        assert fps == pytest.approx(5)
        got = [idx for idx, _ in read_frames(cap, stride=2, max_frames=2)]
    finally:
        cap.release()
    assert got == [0, 2]
    cap, _, _ = open_video(path)
    try:
        frames = list(read_frames(cap))
    finally:
        cap.release()
    assert [i for i, _ in frames] == list(range(6))
    assert frames[0][1].shape == (32, 48, 3)

    # closed without a commit: the partial file goes, nothing appears
    other = str(tmp_path / 'w.mp4')
    writer = AtomicVideoWriter(other, 5, (48, 32))
    writer.write(_frames(1)[0])
    writer.close()
    assert not os.path.exists(other) and not os.path.exists(writer.tmp)


def test_open_video_refuses_empty_and_corrupt_files(tmp_path):
    empty = tmp_path / 'e.mp4'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='zero-byte'):
        open_video(str(empty))
    bad = tmp_path / 'b.avi'
    bad.write_bytes(b'not a video' * 10)
    with pytest.raises(ValueError, match='cannot open video'):
        open_video(str(bad))
    with pytest.raises(OSError):
        open_video(str(tmp_path / 'missing.mp4'))


def test_read_frames_stops_at_the_end(tmp_path):
    path = str(tmp_path / 'm.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (48, 32))
    for f in _frames(7):
        writer.write(f)
    writer.release()
    cap, _, total = open_video(path)
    try:
        got = [idx for idx, _ in read_frames(cap, stride=3)]
    finally:
        cap.release()
    assert got == [0, 3, 6]
