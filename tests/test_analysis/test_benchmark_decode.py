"""Video decoding throughput (mmfocus.analysis.benchmark.decode and
tools/analysis/benchmark_decode.py) on small synthetic H.264 videos."""
import json
import os.path as osp

import numpy as np
import pytest

from mmfocus.analysis.benchmark import (benchmark_decoders,
                                        write_synthetic_video)
from mmfocus.datasets.converters import probe_frame_count

pytest.importorskip('av')


def test_write_synthetic_video(tmp_path):
    info = write_synthetic_video(str(tmp_path / 'v.mp4'), seconds=1,
                                 size=(64, 48), fps=10)
    assert info['frames'] == 10 == probe_frame_count(info['path'])
    assert info['bytes'] == osp.getsize(info['path']) > 0
    assert info['mbit_s'] == pytest.approx(info['bytes'] * 8 / 1e6)
    assert not list(tmp_path.glob('*.writing.mp4'))  # written atomically


def test_benchmark_decoders(tmp_path):
    paths = [write_synthetic_video(str(tmp_path / f'{i}.mp4'), seconds=1,
                                   size=(64, 48), fps=20, seed=i)['path']
             for i in range(2)]
    res = benchmark_decoders(paths, frames=4, warmup=0, repeats=2,
                             memory_passes=3,
                             decoders={'cv': ('opencv', 0),
                                       'av2': ('pyav', 2)})
    # sample_indices(20, 4) = [2, 7, 12, 17]: 18 frames decoded per video
    assert res['decoded_frames'] == 36 and res['sampled_frames'] == 8
    for r in res['decoders'].values():
        assert r['decoded_fps'] == pytest.approx(36 / r['median_s'])
        assert r['sampled_fps'] == pytest.approx(8 / r['median_s'])
        assert len(r['times_s']) == 2 and r['peak_rss_mb'] > 0
        # the resident set after each of 3 passes x 2 videos
        assert len(r['rss_mb']) == 6 and max(r['rss_mb']) == r['peak_rss_mb']
        assert r['rss_growth_mb'] == pytest.approx(r['rss_mb'][-1]
                                                   - r['rss_mb'][0])
        assert r['rss_growth_after_pass1_mb'] == pytest.approx(
            r['rss_mb'][-1] - r['rss_mb'][1])
    assert res['decoders']['av2']['threads'] == 2
    with pytest.raises(ValueError, match='no video'):
        benchmark_decoders([], frames=4)
    with pytest.raises(ValueError, match='memory_passes'):
        benchmark_decoders(paths, frames=4, memory_passes=0)


def test_tool(load_tool, tmp_path, capsys):
    tool = load_tool('tools/analysis/benchmark_decode.py')
    out = tmp_path / 'decode.json'
    work = tmp_path / 'videos'
    tool.main(['--generate', '2', '--seconds', '0.5', '--size', '64', '48',
               '--frames', '3', '--decoders', 'opencv', 'pyav:2',
               '--repeats', '1', '--warmup', '0', '--work-dir', str(work),
               '--memory-passes', '2', '--no-progress', '--out', str(out)])
    text = capsys.readouterr().out
    assert '| opencv | - |' in text and '| pyav-2 | 2 |' in text
    saved = json.load(open(out))
    assert saved['videos'] == 2 and len(saved['generated']) == 2
    assert saved['memory_passes'] == 2
    assert len(saved['decoders']['opencv']['rss_mb']) == 4
    assert 'memory over 4 reads per decoder' in text
    # a second run reuses the written videos
    res = tool.main(['--videos', *sorted(str(p) for p in work.glob('*.mp4')),
                     '--frames', '3', '--decoders', 'pyav', '--repeats', '1',
                     '--warmup', '0', '--no-progress'])
    assert list(res['decoders']) == ['pyav-auto'] and res['generated'] == []
    main = tool.cli_main(tool.main)
    for argv, msg in ((['--decoders', 'nvdec'], 'not opencv, pyav'),
                      (['--videos', str(tmp_path / 'nope.mp4')],
                       'video not found'),
                      (['--memory-passes', '0'], '--memory-passes >= 1')):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code in (1, 2)
        assert msg in capsys.readouterr().err


def test_write_synthetic_video_with_a_face(tmp_path):
    """The pasted portrait is in every frame, where the docstring puts it."""
    import cv2

    from mmfocus.datasets.converters import read_frames
    rng = np.random.default_rng(0)
    face = cv2.GaussianBlur(rng.integers(0, 256, (60, 40, 3), np.uint8),
                            (0, 0), 3)
    info = write_synthetic_video(str(tmp_path / 'f.mp4'), seconds=1,
                                 size=(160, 100), fps=8, face=face)
    frames, _ = read_frames(info['path'], [0, 4])
    fh = 60  # 0.6 x 100
    want = cv2.resize(face, (40, fh), interpolation=cv2.INTER_AREA)
    for t, frame in frames.items():
        x = int((160 - 40) * (0.4 + 0.2 * np.sin(2 * np.pi * t / 8)))
        got = frame[20:20 + fh, x:x + 40].astype(float)
        r = np.corrcoef(got.ravel(), want.astype(float).ravel())[0, 1]
        assert r > 0.9, (t, r)
