"""The converters' video decoders: PyAV (``--decoder pyav``, FFmpeg
threads) gives the same frames as OpenCV, on H.264 written by PyAV and on
the fixture's MPEG-4 videos written by OpenCV, truncated and corrupt files
included; and a whole conversion with it gives the same tree."""
import os.path as osp

import numpy as np
import pytest

from mmfocus.datasets.converters import ConvertSettings, read_frames
from mmfocus.datasets.converters.video import VideoReadError

av = pytest.importorskip('av')
N = 24


def _h264(path, n=N, w=96, h=64, fragmented=False):
    """Frame i is a texture shifted by i with brightness block i * 9, so a
    frame read at the wrong index differs from the right one. A fragmented
    mp4 (an index per fragment) still opens when cut short."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h // 4, w // 4, 3), np.uint8)
    base = base.repeat(4, 0).repeat(4, 1)
    out = av.open(str(path), 'w', options=dict(
        movflags='frag_keyframe+empty_moov') if fragmented else {})
    st = out.add_stream('libx264', rate=25)
    st.width, st.height, st.pix_fmt = w, h, 'yuv420p'
    st.options = {'preset': 'ultrafast', 'g': '8', 'bf': '2'}
    for i in range(n):
        img = np.roll(base, i, axis=1)
        img[:16, :16] = i * 9
        for pkt in st.encode(av.VideoFrame.from_ndarray(img, format='bgr24')):
            out.mux(pkt)
    for pkt in st.encode():
        out.mux(pkt)
    out.close()
    return str(path)


@pytest.fixture(scope='module')
def h264(tmp_path_factory):
    return _h264(tmp_path_factory.mktemp('h264') / 'v.mp4')


@pytest.mark.parametrize('threads', [0, 1, 2])
def test_pyav_gives_opencv_frames(h264, threads):
    idx = [0, 3, 7, 8, 15, 23, 24, 40]  # 24 and 40: past the end
    ref, ref_bad = read_frames(h264, idx)
    got, bad = read_frames(h264, idx, decoder='pyav', threads=threads)
    assert sorted(ref) == sorted(got) == [0, 3, 7, 8, 15, 23]
    assert bad == ref_bad == [24, 40]
    for i in ref:
        np.testing.assert_array_equal(got[i], ref[i])
    # the index is the frame's own: brightness block i * 9 (lossy: +-4)
    assert [int(round(got[i][2:14, 2:14].mean() / 9)) for i in sorted(got)] \
        == sorted(got)


def test_truncated_and_corrupt(h264, tmp_path):
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'not a video' * 100)
    for decoder in ('opencv', 'pyav'):
        with pytest.raises(VideoReadError, match='cannot open video'):
            read_frames(str(bad), [0], decoder=decoder)
        with pytest.raises(VideoReadError):
            read_frames(str(tmp_path / 'missing.mp4'), [0], decoder=decoder)
    # a fragmented mp4 cut mid-stream: both read the same first frames,
    # the rest is unreadable
    frag = _h264(tmp_path / 'frag.mp4', fragmented=True)
    data = open(frag, 'rb').read()
    cut = tmp_path / 'cut.mp4'
    cut.write_bytes(data[:len(data) // 2])
    ref, ref_bad = read_frames(str(cut), list(range(N)))
    got, bad_idx = read_frames(str(cut), list(range(N)), decoder='pyav')
    assert 0 < len(got) < N and bad_idx == [i for i in range(N)
                                            if i not in got]
    assert sorted(ref) == sorted(got) and ref_bad == bad_idx
    for i in ref:
        np.testing.assert_array_equal(got[i], ref[i])


def test_bad_options():
    with pytest.raises(ValueError, match='decoder must be one of'):
        read_frames('x.mp4', [0], decoder='gstreamer')
    with pytest.raises(ValueError, match='threads must be >= 0'):
        read_frames('x.mp4', [0], decoder='pyav', threads=-1)
    with pytest.raises(ValueError, match='decoder must be one of'):
        ConvertSettings(decoder='nvdec')
    with pytest.raises(ValueError, match='decode_threads'):
        ConvertSettings(decode_threads=-2)
    s = ConvertSettings(decoder='pyav', decode_threads=4)
    # how, not what: not in settings.json, so a resumed run may change it
    assert s.as_dict() == ConvertSettings().as_dict()
    assert 'decoder' not in s.as_dict()


def test_conversion_with_pyav_is_the_same(ffpp_cli, ffpp_converted, tmp_path,
                                          read_tree):
    """The fixture tree (OpenCV-written MPEG-4) converted from scratch with
    --decoder pyav in 2 worker processes: the same crops, masks and
    annotations as the OpenCV reference conversion."""
    tool, _, base = ffpp_cli
    out = tmp_path / 'pyav'
    args = [base[0], str(out)] + base[2:]
    assert tool.main(args + ['--decoder', 'pyav', '--decode-threads', '2',
                             '--workers', '2']) == 0
    assert read_tree(str(out / 'c23')) == read_tree(ffpp_converted[1])
    assert osp.isfile(out / 'c23' / 'train.json')
