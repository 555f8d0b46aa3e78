# Copyright (c) mmfocus contributors.
"""Face-detection throughput (mmfocus.analysis.benchmark.detect and
tools/analysis/benchmark_detect.py) on small synthetic frames."""
import glob
import json

import numpy as np
import pytest
import torch

from mmfocus.analysis.benchmark import benchmark_detectors, synthetic_frames
from mmfocus.faces import BaseFaceDetector, Face

PHOTOS = sorted(glob.glob('demo/faces/photos/*.jpg'))


class _Fixed(BaseFaceDetector):
    """One face per frame at a fixed box; counts detect_batch calls."""

    def __init__(self, box):
        self.box = np.asarray(box, np.float32)
        self.batches = []

    def detect(self, img):
        return [Face(bbox=self.box, score=1.0)]

    def detect_batch(self, imgs):
        self.batches.append(len(imgs))
        return super().detect_batch(imgs)


def test_synthetic_frames():
    frames = synthetic_frames(PHOTOS[:2], 3, size=(160, 90), seed=1)
    assert len(frames) == 3
    assert all(f.shape == (90, 160, 3) and f.dtype == np.uint8
               for f in frames)
    again = synthetic_frames(PHOTOS[:2], 3, size=(160, 90), seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))
    with pytest.raises(FileNotFoundError):
        synthetic_frames(['nope.jpg'], 1)


def test_benchmark_detectors_agreement_and_batches():
    frames = synthetic_frames(PHOTOS[:1], 6, size=(64, 48))
    a = _Fixed([0, 0, 10, 10])
    b = _Fixed([1, 1, 11, 11])  # IoU 81 / 119 = 0.68: agrees
    c = _Fixed([20, 20, 30, 30])  # no overlap
    res = benchmark_detectors({'a': a, 'b': b, 'c': c}, frames, videos=3,
                              warmup=1, repeats=2)
    assert res['frames'] == 6 and res['reference'] == 'a'
    # one detect_batch call per video of 2 frames, in every pass
    assert set(a.batches) == {2} and len(a.batches) == 3 * (1 + 2)
    d = res['detectors']
    assert d['a']['largest_iou_ge_05'] == 1.0
    assert d['b']['largest_iou_ge_05'] == 1.0
    assert d['c']['largest_iou_ge_05'] == 0.0
    assert d['c']['faces_per_frame'] == 1.0 and d['c']['no_face'] == 0
    assert d['a']['fps_q1'] <= d['a']['fps'] <= d['a']['fps_q3']
    with pytest.raises(ValueError, match='equal videos'):
        benchmark_detectors({'a': a}, frames, videos=4)


def test_tool(load_tool, tmp_path, capsys):
    tool = load_tool('tools/analysis/benchmark_detect.py')
    out = tmp_path / 'detect.json'
    res = tool.main(['--device', 'cpu', '--threads', '1', '--detectors',
                     'dlib', 'torch:1', 'torch:3', '--generate', '2',
                     '--frames', '3', '--size', '320', '180', '--max-side',
                     '160', '--repeats', '1', '--warmup', '0',
                     '--no-progress', '--out', str(out)])
    text = capsys.readouterr().out
    assert '| retinaface-b3 |' in text and 'weights: random' in text
    saved = json.load(open(out))
    assert saved['frames'] == 6 and saved['max_side'] == 160
    assert list(saved['detectors']) == ['dlib', 'retinaface-b1',
                                        'retinaface-b3']
    # random weights whose face class never wins: no face
    assert res['detectors']['retinaface-b1']['no_face'] == 6
    main = tool.cli_main(tool.main)
    bad = [(['--detectors', 'mtcnn'], 'not dlib or torch:B'),
           (['--videos', str(tmp_path / 'nope.mp4')], 'video not found'),
           (['--retinaface-weights', str(tmp_path / 'w.pth'),
             '--detectors', 'torch:2'], 'nothing is downloaded')]
    if not torch.cuda.is_available():
        bad.append((['--fp16', '--device', 'cuda', '--detectors', 'torch:2'],
                    'CUDA is not available'))
    for argv, msg in bad:
        with pytest.raises(SystemExit) as exc:
            main(argv + ['--generate', '1', '--frames', '1', '--size', '64',
                         '48', '--repeats', '1', '--no-progress'])
        assert exc.value.code in (1, 2)
        assert msg in capsys.readouterr().err
