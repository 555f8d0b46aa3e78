# Copyright (c) mmfocus contributors.
"""RetinaFace-MobileNet0.25 in PyTorch: the published architecture's sizes,
anchors and box coding with known answers, the checkpoint checks, and the
batched detector on a network whose output is known."""
import math

import numpy as np
import pytest
import torch

from mmfocus.faces import build_face_detector
from mmfocus.faces.retinaface import (RetinaFaceNet, TorchRetinaFaceDetector,
                                      convert_retinaface, decode_boxes,
                                      decode_landmarks, load_retinaface,
                                      prior_boxes)
from mmfocus.utils import register_all_modules

register_all_modules(init_default_scope=False)


def test_published_sizes():
    net = RetinaFaceNet()
    # the public mobilenet0.25_Final.pth: 426,608 parameters in 300 entries
    # (BN running statistics and counters included), no classifier
    assert sum(p.numel() for p in net.parameters()) == 426_608
    state = net.state_dict()
    assert len(state) == 300
    assert 'body.stage1.0.0.weight' in state
    assert 'ClassHead.2.conv1x1.bias' in state
    assert 'ssh3.conv7x7_3.1.running_var' in state
    assert not any(k.startswith('body.fc') for k in state)
    assert tuple(state['LandmarkHead.0.conv1x1.weight'].shape) == \
        (20, 64, 1, 1)


@pytest.mark.parametrize('h,w,n', [(640, 640, 16800), (250, 333, 3536),
                                   (360, 640, 9520)])
def test_anchor_count_matches_heads(h, w, n):
    # 2 anchors per location of ceil(H / s) x ceil(W / s), s = 8, 16, 32
    expected = 2 * sum(math.ceil(h / s) * math.ceil(w / s)
                       for s in (8, 16, 32))
    assert expected == n
    assert prior_boxes(h, w).shape == (n, 4)
    net = RetinaFaceNet().eval()
    with torch.no_grad():
        loc, scores, lmk = net(torch.zeros(1, 3, h, w))
    assert loc.shape == (1, n, 4) and scores.shape == (1, n)
    assert lmk.shape == (1, n, 10)
    assert torch.all((scores >= 0) & (scores <= 1))


def test_prior_boxes_known_values():
    p = prior_boxes(64, 128)
    # level 0 (stride 8): 8 x 16 locations, anchors 16 and 32 px
    np.testing.assert_allclose(p[0], [4 / 128, 4 / 64, 16 / 128, 16 / 64])
    np.testing.assert_allclose(p[1], [4 / 128, 4 / 64, 32 / 128, 32 / 64])
    # next location is one step to the right (row-major, then anchors)
    np.testing.assert_allclose(p[2, :2], [12 / 128, 4 / 64])
    # first anchor of row 1
    np.testing.assert_allclose(p[2 * 16, :2], [4 / 128, 12 / 64])
    # level 1 starts after 2 * 8 * 16 anchors: stride 16, 64 px
    np.testing.assert_allclose(p[256], [8 / 128, 8 / 64, 64 / 128, 64 / 64])
    # level 2: stride 32, 256 and 512 px, last anchor at the last location
    np.testing.assert_allclose(p[-1], [112 / 128, 48 / 64, 512 / 128,
                                       512 / 64], rtol=1e-6)


def test_decode_known_offsets():
    priors = torch.tensor([[0.5, 0.5, 0.2, 0.4]])
    # zero offsets: the prior itself
    np.testing.assert_allclose(decode_boxes(torch.zeros(1, 4), priors),
                               [[0.4, 0.3, 0.6, 0.7]], atol=1e-7)
    # centre moved by 1 variance (0.1 x width), width doubled
    loc = torch.tensor([[1.0, 0.0, math.log(2) / 0.2, 0.0]])
    np.testing.assert_allclose(decode_boxes(loc, priors),
                               [[0.32, 0.3, 0.72, 0.7]], atol=1e-6)
    pts = decode_landmarks(torch.zeros(1, 10), priors)
    assert pts.shape == (1, 5, 2)
    np.testing.assert_allclose(pts[0], np.full((5, 2), 0.5))
    pre = torch.zeros(1, 10)
    pre[0, 2:4] = torch.tensor([1.0, -1.0])  # second point
    np.testing.assert_allclose(decode_landmarks(pre, priors)[0, 1],
                               [0.52, 0.46], atol=1e-7)


def test_checkpoint_conversion_and_errors(tmp_path):
    net = RetinaFaceNet()
    published = {'module.' + k: v for k, v in net.state_dict().items()}
    state = convert_retinaface(published)
    assert set(state) == set(net.state_dict())
    path = tmp_path / 'mobilenet0.25_Final.pth'
    torch.save(published, path)
    loaded = load_retinaface(str(path))
    assert not loaded.training
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    broken = dict(published)
    broken.pop('module.ClassHead.0.conv1x1.bias')
    with pytest.raises(RuntimeError, match='1 missing keys'):
        convert_retinaface(broken)
    broken = dict(published)
    broken['module.BboxHead.1.conv1x1.weight'] = torch.zeros(8, 32, 1, 1)
    with pytest.raises(RuntimeError, match='shape mismatch'):
        convert_retinaface(broken)
    with pytest.raises(FileNotFoundError, match='nothing is downloaded'):
        load_retinaface(str(tmp_path / 'missing.pth'))
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='unreadable checkpoint'):
        load_retinaface(str(bad))


def test_converter_tool(tmp_path, capsys):
    from tools.model_converters.retinaface_to_mmfocus import main
    net = RetinaFaceNet()
    src = tmp_path / 'src.pth'
    torch.save({'state_dict': {'module.' + k: v
                               for k, v in net.state_dict().items()}}, src)
    dst = tmp_path / 'out.pth'
    main([str(src), str(dst)])
    assert 'wrote' in capsys.readouterr().out
    out = torch.load(dst, weights_only=True)
    assert set(out) == set(net.state_dict())
    with pytest.raises(FileExistsError):
        main([str(src), str(dst)])


class _OracleNet(RetinaFaceNet):
    """Gives, per image, score 0.9 to the 64-px anchor (stride 16) nearest
    to the centre of the white pixels, 0.8 to the one right of it (IoU 0.6:
    NMS drops it), 0.3 to a far one (below the threshold); zero offsets."""

    def forward(self, x):
        b, _, h, w = x.shape
        priors = prior_boxes(h, w)
        n = priors.shape[0]
        scores = torch.zeros(b, n)
        level1 = torch.arange(n)[(priors[:, 2] * w - 64).abs() < 1e-3]
        for i in range(b):
            ys, xs = torch.nonzero(x[i].mean(0) > 100, as_tuple=True)
            cy, cx = ys.float().mean() + 0.5, xs.float().mean() + 0.5
            d = (priors[level1, 0] * w - cx) ** 2 + \
                (priors[level1, 1] * h - cy) ** 2
            best = level1[torch.argmin(d)]
            scores[i, best] = 0.9
            scores[i, best + 2] = 0.8  # next location, same anchor size
            scores[i, level1[(len(level1) - 1) if best < n // 2 else 0]] \
                = 0.3
        return torch.zeros(b, n, 4), scores, torch.zeros(b, n, 10)


def _square(h, w, y, x, side=64):
    img = np.zeros((h, w, 3), np.uint8)
    img[y:y + side, x:x + side] = 255
    return img


def test_detector_known_output():
    det = TorchRetinaFaceDetector(_OracleNet(), device='cpu', max_side=640)
    # 1280 x 720 is shrunk to 640 x 360 (scale 0.5): the square's centre at
    # (600, 300) -> (300, 150); the nearest stride-16 centre is (296, 152)
    faces = det.detect(_square(720, 1280, 268, 568))
    assert len(faces) == 1
    f = faces[0]
    assert f.score == pytest.approx(0.9)
    np.testing.assert_allclose(f.bbox, np.array([264, 120, 328, 184]) / 0.5,
                               atol=1e-3)
    np.testing.assert_allclose(f.landmarks, np.tile([296 / 0.5, 152 / 0.5],
                                                    (5, 1)), atol=1e-3)
    assert f.bbox.dtype == np.float32


def test_detect_batch_mixed_sizes_equals_one_by_one():
    det = TorchRetinaFaceDetector(_OracleNet(), device='cpu', batch_size=2)
    imgs = [_square(720, 1280, 268, 568), _square(300, 400, 40, 50),
            _square(720, 1280, 100, 900), _square(300, 400, 200, 300),
            _square(720, 1280, 500, 100)]
    batched = det.detect_batch(imgs)
    assert len(batched) == len(imgs)
    for img, got in zip(imgs, batched):
        alone = det.detect(img)
        assert len(got) == len(alone) == 1
        np.testing.assert_allclose(got[0].bbox, alone[0].bbox)
        # the face covers the square's centre
        ys, xs = np.nonzero(img[..., 0])
        x1, y1, x2, y2 = got[0].bbox
        assert x1 < xs.mean() < x2 and y1 < ys.mean() < y2
    assert det.detect_batch([]) == []


def test_detector_real_network_batch_equals_single():
    torch.manual_seed(0)
    net = RetinaFaceNet()
    # a random head that gives a handful of well-separated candidates
    for head in net.ClassHead:
        head.conv1x1.bias.data[1::2] -= 3.0
    det = TorchRetinaFaceDetector(net, device='cpu', score_thr=0.2,
                                  batch_size=4)
    rng = np.random.RandomState(0)
    imgs = [rng.randint(0, 256, (200, 300, 3), np.uint8) for _ in range(3)]
    batched = det.detect_batch(imgs)
    for img, got in zip(imgs, batched):
        alone = det.detect(img)
        assert [round(f.score, 4) for f in got] == \
            [round(f.score, 4) for f in alone]
        for a, b in zip(got, alone):
            np.testing.assert_allclose(a.bbox, b.bbox, atol=1e-3)
        # NMS left no two boxes above its threshold
        boxes = torch.tensor(np.stack([f.bbox for f in got])) if got \
            else torch.zeros(0, 4)
        if len(got) > 1:
            from torchvision.ops import box_iou
            iou = box_iou(boxes, boxes).fill_diagonal_(0)
            assert iou.max() <= det.nms_thr + 1e-6


def test_detector_config_and_bad_input(tmp_path):
    path = tmp_path / 'w.pth'
    torch.save(RetinaFaceNet().state_dict(), path)
    det = build_face_detector(dict(type='TorchRetinaFaceDetector',
                                   weights=str(path), device='cpu'))
    assert isinstance(det, TorchRetinaFaceDetector)
    assert det.batch_size == 1  # the CPU default (batching is slower there)
    assert 'TorchRetinaFaceDetector' in repr(det)
    with pytest.raises(TypeError, match='uint8'):
        det.detect(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(ValueError, match='image'):
        det.detect(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(ValueError, match='landmarks'):
        TorchRetinaFaceDetector(str(path), landmarks=7)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='CUDA is not available'):
            TorchRetinaFaceDetector(str(path), device='cuda')
    # a grey image is accepted
    assert isinstance(det.detect(np.zeros((40, 60), np.uint8)), list)


def test_converter_cli_picks_the_backend(tmp_path):
    from mmfocus.datasets.converters.cli import detector_cfg
    pth = tmp_path / 'mobilenet0.25_Final.pth'
    pth.write_bytes(b'x')
    onnx = tmp_path / 'det_10g.onnx'
    onnx.write_bytes(b'x')
    cfg = detector_cfg('retinaface', str(pth), device='cpu', batch_size=8)
    assert cfg['type'] == 'TorchRetinaFaceDetector'
    assert cfg['batch_size'] == 8 and cfg['device'] == 'cpu'
    assert cfg['landmarks'] == 68
    assert detector_cfg('retinaface', str(onnx))['type'] == \
        'RetinaFaceDetector'
    assert detector_cfg('retinaface', str(pth))['batch_size'] is None
    other = tmp_path / 'w.bin'
    other.write_bytes(b'x')
    with pytest.raises(ValueError, match='expected an .onnx'):
        detector_cfg('retinaface', str(other))
