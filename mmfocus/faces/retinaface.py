# Copyright (c) mmfocus contributors.
"""RetinaFace-MobileNet0.25 in PyTorch: batched face detection on CPU or GPU
from a local weight file.

The network is the light RetinaFace of Deng et al. (CVPR 2020) as the
public PyTorch re-implementation trained it on WIDER FACE (its file
``mobilenet0.25_Final.pth``, 1.7 MB): a MobileNetV1 x 0.25 body (three
stages, strides 8 / 16 / 32), a 3-level FPN with 64 channels, one SSH
context module per level and 1x1 heads for 2 anchors per location (face
score, box offsets, 5 landmarks). The module names below match that file's
keys, so it loads as published (its ``module.`` prefix of a DataParallel
save is removed); nothing is downloaded.

What is mmfocus's own: :class:`TorchRetinaFaceDetector` runs a whole list
of frames (one video's sampled frames) as one batch, decodes every
image's boxes on the device and suppresses overlaps with one
``torchvision.ops.batched_nms`` call.
"""
import os.path as osp
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfocus.registry import FACE_DETECTORS
from mmfocus.utils.checkpoint import (check_state_dict, load_state_dict_file)
from .detectors import (BaseFaceDetector, DlibDetector, Face, _as_bgr_uint8,
                        _shrink_to_side)

#: Anchor sides per level (pixels of the network input), the level strides
#: and the box-coding variances of RetinaFace-MobileNet0.25.
MIN_SIZES = ((16, 32), (64, 128), (256, 512))
STEPS = (8, 16, 32)
VARIANCES = (0.1, 0.2)
#: Per-channel BGR mean the network was trained with (subtracted from the
#: raw 0-255 pixels; no scaling).
BGR_MEAN = (104.0, 117.0, 123.0)


def _conv_bn(cin: int, cout: int, stride: int = 1, k: int = 3,
             leaky: Optional[float] = 0.0) -> nn.Sequential:
    """Conv (no bias) + BN (+ LeakyReLU unless ``leaky`` is None): the
    ``0`` / ``1`` / ``2`` children of the published checkpoint."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
              nn.BatchNorm2d(cout)]
    if leaky is not None:
        layers.append(nn.LeakyReLU(leaky, inplace=True))
    return nn.Sequential(*layers)


def _conv_dw(cin: int, cout: int, stride: int,
             leaky: float = 0.1) -> nn.Sequential:
    """Depthwise 3x3 + BN + LeakyReLU, pointwise 1x1 + BN + LeakyReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
        nn.BatchNorm2d(cin), nn.LeakyReLU(leaky, inplace=True),
        nn.Conv2d(cin, cout, 1, 1, 0, bias=False),
        nn.BatchNorm2d(cout), nn.LeakyReLU(leaky, inplace=True))


class MobileNetV1Body(nn.Module):
    """MobileNetV1 x 0.25 without its classifier: the outputs of its three
    stages (64 / 128 / 256 channels at strides 8 / 16 / 32)."""

    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(
            _conv_bn(3, 8, 2, leaky=0.1), _conv_dw(8, 16, 1),
            _conv_dw(16, 32, 2), _conv_dw(32, 32, 1), _conv_dw(32, 64, 2),
            _conv_dw(64, 64, 1))
        self.stage2 = nn.Sequential(
            _conv_dw(64, 128, 2), *[_conv_dw(128, 128, 1) for _ in range(5)])
        self.stage3 = nn.Sequential(_conv_dw(128, 256, 2),
                                    _conv_dw(256, 256, 1))

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        c3 = self.stage1(x)
        c4 = self.stage2(c3)
        return [c3, c4, self.stage3(c4)]


class RetinaFaceFPN(nn.Module):
    """Top-down FPN: 1x1 laterals, nearest upsampling, 3x3 merges."""

    def __init__(self, in_channels: Sequence[int], out_channels: int) -> None:
        super().__init__()
        leaky = 0.1 if out_channels <= 64 else 0.0
        self.output1 = _conv_bn(in_channels[0], out_channels, k=1,
                                leaky=leaky)
        self.output2 = _conv_bn(in_channels[1], out_channels, k=1,
                                leaky=leaky)
        self.output3 = _conv_bn(in_channels[2], out_channels, k=1,
                                leaky=leaky)
        self.merge1 = _conv_bn(out_channels, out_channels, leaky=leaky)
        self.merge2 = _conv_bn(out_channels, out_channels, leaky=leaky)

    def forward(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        p3, p4, p5 = (self.output1(feats[0]), self.output2(feats[1]),
                      self.output3(feats[2]))
        p4 = self.merge2(p4 + F.interpolate(p5, size=p4.shape[-2:],
                                            mode='nearest'))
        p3 = self.merge1(p3 + F.interpolate(p4, size=p3.shape[-2:],
                                            mode='nearest'))
        return [p3, p4, p5]


class SSH(nn.Module):
    """SSH context module: 3x3, 5x5 (two 3x3) and 7x7 (three 3x3) branches
    with half / quarter / quarter of the channels, concatenated, ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        if out_channels % 4:
            raise ValueError(f'SSH needs out_channels divisible by 4, got '
                             f'{out_channels}')
        leaky = 0.1 if out_channels <= 64 else 0.0
        q = out_channels // 4
        self.conv3X3 = _conv_bn(in_channels, out_channels // 2, leaky=None)
        self.conv5X5_1 = _conv_bn(in_channels, q, leaky=leaky)
        self.conv5X5_2 = _conv_bn(q, q, leaky=None)
        self.conv7X7_2 = _conv_bn(q, q, leaky=leaky)
        self.conv7x7_3 = _conv_bn(q, q, leaky=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid = self.conv5X5_1(x)
        return F.relu(torch.cat([
            self.conv3X3(x), self.conv5X5_2(mid),
            self.conv7x7_3(self.conv7X7_2(mid))], dim=1))


class _Head1x1(nn.Module):
    """A 1x1 conv giving ``per_anchor`` values for each of the anchors of a
    location, flattened to ``(B, H * W * anchors, per_anchor)``."""

    def __init__(self, in_channels: int, anchors: int,
                 per_anchor: int) -> None:
        super().__init__()
        self.per_anchor = per_anchor
        self.conv1x1 = nn.Conv2d(in_channels, anchors * per_anchor, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1x1(x).permute(0, 2, 3, 1)
        return out.reshape(out.shape[0], -1, self.per_anchor)


class RetinaFaceNet(nn.Module):
    """RetinaFace-MobileNet0.25 (about 0.43 M parameters).

    ``forward`` takes a ``(B, 3, H, W)`` BGR batch minus :data:`BGR_MEAN`
    and returns ``(boxes, scores, landmarks)``: the box offsets
    ``(B, N, 4)``, the face probability ``(B, N)`` (softmax over the two
    classes) and the landmark offsets ``(B, N, 10)``, for the ``N`` anchors
    of :func:`prior_boxes` in the same order.
    """

    def __init__(self, out_channels: int = 64, anchors: int = 2) -> None:
        super().__init__()
        self.body = MobileNetV1Body()
        self.fpn = RetinaFaceFPN((64, 128, 256), out_channels)
        self.ssh1 = SSH(out_channels, out_channels)
        self.ssh2 = SSH(out_channels, out_channels)
        self.ssh3 = SSH(out_channels, out_channels)
        self.ClassHead = nn.ModuleList(
            _Head1x1(out_channels, anchors, 2) for _ in range(3))
        self.BboxHead = nn.ModuleList(
            _Head1x1(out_channels, anchors, 4) for _ in range(3))
        self.LandmarkHead = nn.ModuleList(
            _Head1x1(out_channels, anchors, 10) for _ in range(3))

    def forward(self, x: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        fpn = self.fpn(self.body(x))
        feats = [self.ssh1(fpn[0]), self.ssh2(fpn[1]), self.ssh3(fpn[2])]
        boxes = torch.cat([h(f) for h, f in zip(self.BboxHead, feats)], 1)
        logits = torch.cat([h(f) for h, f in zip(self.ClassHead, feats)], 1)
        lmks = torch.cat([h(f) for h, f in zip(self.LandmarkHead, feats)],
                         1)
        return boxes, logits.float().softmax(-1)[..., 1], lmks


@lru_cache(maxsize=32)
def _prior_boxes_cpu(height: int, width: int) -> torch.Tensor:
    rows = []
    for sizes, step in zip(MIN_SIZES, STEPS):
        fh, fw = -(-height // step), -(-width // step)  # ceil
        cy, cx = torch.meshgrid(
            (torch.arange(fh, dtype=torch.float64) + 0.5) * step / height,
            (torch.arange(fw, dtype=torch.float64) + 0.5) * step / width,
            indexing='ij')
        per_size = [torch.stack([cx, cy, torch.full_like(cx, s / width),
                                 torch.full_like(cy, s / height)], -1)
                    for s in sizes]
        # (fh, fw, anchors, 4): row-major locations, then the anchors, the
        # order of the heads' flattened output
        rows.append(torch.stack(per_size, 2).reshape(-1, 4))
    return torch.cat(rows).float()


def prior_boxes(height: int, width: int,
                device: Optional[torch.device] = None) -> torch.Tensor:
    """The anchors of a ``height`` x ``width`` input as ``(N, 4)``
    ``cx, cy, w, h``, normalised by the input size.

    Level ``k`` (stride ``STEPS[k]``) has ``ceil(H / s) x ceil(W / s)``
    locations, each with one square anchor per side of ``MIN_SIZES[k]``
    (640 x 640: 2 x (80^2 + 40^2 + 20^2) = 16,800 anchors).
    """
    return _prior_boxes_cpu(int(height), int(width)).to(device)


def decode_boxes(loc: torch.Tensor, priors: torch.Tensor,
                 variances: Sequence[float] = VARIANCES) -> torch.Tensor:
    """SSD box decoding: offsets ``(..., N, 4)`` against ``priors``
    ``(N, 4)`` (``cx, cy, w, h``) to ``x1, y1, x2, y2`` (same normalised
    units as the priors)."""
    centre = priors[:, :2] + loc[..., :2] * variances[0] * priors[:, 2:]
    size = priors[:, 2:] * torch.exp(loc[..., 2:] * variances[1])
    return torch.cat([centre - size / 2, centre + size / 2], -1)


def decode_landmarks(pre: torch.Tensor, priors: torch.Tensor,
                     variances: Sequence[float] = VARIANCES) -> torch.Tensor:
    """Landmark offsets ``(..., N, 10)`` to ``(..., N, 5, 2)`` points."""
    pts = pre.reshape(*pre.shape[:-1], 5, 2)
    return priors[:, None, :2] + pts * variances[0] * priors[:, None, 2:]


def convert_retinaface(state: Dict[str, torch.Tensor],
                       net: Optional[RetinaFaceNet] = None
                       ) -> Dict[str, torch.Tensor]:
    """The published RetinaFace-MobileNet0.25 state dict for
    :class:`RetinaFaceNet`: the ``module.`` prefix of a DataParallel save
    removed (the names are otherwise the same), checked exactly against
    ``net`` (a new one when None)."""
    out = {(k[len('module.'):] if k.startswith('module.') else k): v
           for k, v in state.items()}
    check_state_dict(RetinaFaceNet() if net is None else net, out,
                     source='RetinaFace checkpoint')
    return out


def load_retinaface(path: str) -> RetinaFaceNet:
    """:class:`RetinaFaceNet` in eval mode with the weights of a local file
    (the published ``mobilenet0.25_Final.pth`` or a converted one), loaded
    as weights only and checked key for key."""
    if not path or not osp.isfile(path):
        raise FileNotFoundError(
            f'RetinaFace weight file not found: {path!r} (point `weights` to '
            f'a local mobilenet0.25_Final.pth; nothing is downloaded)')
    net = RetinaFaceNet()
    net.load_state_dict(convert_retinaface(load_state_dict_file(path), net))
    return net.eval()


@FACE_DETECTORS.register_module()
class TorchRetinaFaceDetector(BaseFaceDetector):
    """RetinaFace-MobileNet0.25 in PyTorch, batched, on CPU or CUDA.

    :meth:`detect_batch` resizes every image so that its longer side is at
    most ``max_side``, runs the network once per ``batch_size`` images of
    one size, decodes on the device and suppresses overlapping boxes of all
    of them in one ``batched_nms``. Boxes and landmarks come back in each
    image's own pixels.

    Args:
        weights (str): Local weight file (``mobilenet0.25_Final.pth`` of the
            public PyTorch RetinaFace, or the output of
            ``tools/model_converters/retinaface_to_mmfocus.py``).
        score_thr (float): Keep faces whose probability is at least this.
            Defaults to 0.5.
        nms_thr (float): IoU above which the lower-scoring box is dropped.
            Defaults to 0.4 (the published test setting).
        max_side (int, optional): Longer side the images are shrunk to
            before detection (None: full resolution, as the published test
            script). Defaults to 640.
        batch_size (int, optional): Images per forward pass. None: 16 on
            CUDA, 1 on the CPU (where batching runs slower: 0.67x the
            single-frame rate on one core, docs/en/useful_tools/
            benchmark.md). Defaults to None.
        pre_nms_top_k (int): Highest-scoring anchors per image kept before
            NMS. Defaults to 5000.
        max_faces (int): Faces per image at most. Defaults to 750.
        device (str): ``'auto'`` (CUDA when present), ``'cpu'``, ``'cuda'``
            or ``'cuda:N'``. Defaults to ``'auto'``.
        fp16 (bool): Run the network in float16 on CUDA (decoding stays
            float32). Defaults to False.
        landmarks (int): 5 (RetinaFace's own: eyes, nose, mouth corners) or
            68 (dlib's shape predictor fitted inside each box, needs
            dlib-bin). Defaults to 5.

    Example:
        >>> det = TorchRetinaFaceDetector('weights/mobilenet0.25_Final.pth',
        ...                               device='cuda')
        >>> faces_per_frame = det.detect_batch(frames)  # BGR uint8 frames
    """

    def __init__(self,
                 weights: str,
                 score_thr: float = 0.5,
                 nms_thr: float = 0.4,
                 max_side: Optional[int] = 640,
                 batch_size: Optional[int] = None,
                 pre_nms_top_k: int = 5000,
                 max_faces: int = 750,
                 device: str = 'auto',
                 fp16: bool = False,
                 landmarks: int = 5) -> None:
        if landmarks not in (5, 68):
            raise ValueError(f'landmarks must be 5 or 68, got {landmarks}')
        if batch_size is not None and batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if max_side is not None and max_side < 32:
            raise ValueError(f'max_side must be >= 32 or None, got '
                             f'{max_side}')
        self.weights = weights
        self.score_thr = float(score_thr)
        self.nms_thr = float(nms_thr)
        self.max_side = None if max_side is None else int(max_side)
        self.pre_nms_top_k = int(pre_nms_top_k)
        self.max_faces = int(max_faces)
        self.landmarks = landmarks
        if device == 'auto':
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        self.device = torch.device(device)
        if self.device.type == 'cuda' and not torch.cuda.is_available():
            raise RuntimeError(f'device {device!r} asked for, but CUDA is '
                               f'not available (use device="cpu")')
        self.fp16 = bool(fp16) and self.device.type == 'cuda'
        if batch_size is None:
            batch_size = 16 if self.device.type == 'cuda' else 1
        self.batch_size = int(batch_size)
        net = load_retinaface(weights) if isinstance(weights, str) \
            else weights
        if not isinstance(net, RetinaFaceNet):
            raise TypeError(f'weights must be a file path or a '
                            f'RetinaFaceNet, got {type(weights).__name__}')
        net = net.eval().to(self.device)
        self.net = net.half() if self.fp16 else net
        self._refiner = (DlibDetector(landmarks=68)
                         if landmarks == 68 else None)

    # -------------------------------------------------------------- input
    def _prepare(self, img: np.ndarray) -> Tuple[np.ndarray, float]:
        return _shrink_to_side(_as_bgr_uint8(img), self.max_side,
                               cv2.INTER_LINEAR)

    def _to_batch(self, imgs: List[np.ndarray]) -> torch.Tensor:
        """Same-size BGR uint8 images -> the network's input on the device
        (the uint8 batch is copied, the mean subtracted there)."""
        x = torch.from_numpy(np.stack(imgs)).to(self.device)
        mean = torch.tensor(BGR_MEAN, device=self.device)
        x = (x.float() - mean).permute(0, 3, 1, 2).contiguous()
        return x.half() if self.fp16 else x

    # ---------------------------------------------------------- detection
    @torch.no_grad()
    def _run(self, imgs: List[np.ndarray],
             scales: List[float]) -> List[List[Face]]:
        """One forward pass over same-size prepared images."""
        from torchvision.ops import batched_nms
        x = self._to_batch(imgs)
        height, width = x.shape[-2:]
        loc, scores, pre = self.net(x)
        priors = prior_boxes(height, width, self.device)
        size = torch.tensor([width, height], device=self.device,
                            dtype=torch.float32)
        boxes = decode_boxes(loc.float(), priors) * size.repeat(2)
        lmks = decode_landmarks(pre.float(), priors) * size
        # NMS keeps a box unless a higher-scoring one overlaps it, so the
        # faces at or above score_thr are the same whether the threshold is
        # applied before or after it
        img_idx, anchor_idx = torch.nonzero(scores >= self.score_thr,
                                            as_tuple=True)
        if img_idx.numel() > self.pre_nms_top_k:
            # each image's pre_nms_top_k highest-scoring anchors
            s = scores[img_idx, anchor_idx]
            order = torch.argsort(s, descending=True, stable=True)
            order = order[torch.argsort(img_idx[order], stable=True)]
            img_idx, anchor_idx = img_idx[order], anchor_idx[order]
            counts = torch.bincount(img_idx, minlength=len(imgs))
            starts = torch.cumsum(counts, 0) - counts
            rank = torch.arange(img_idx.numel(), device=self.device) - \
                starts[img_idx]
            keep = rank < self.pre_nms_top_k
            img_idx, anchor_idx = img_idx[keep], anchor_idx[keep]
        cand_boxes = boxes[img_idx, anchor_idx]
        cand_scores = scores[img_idx, anchor_idx]
        kept = batched_nms(cand_boxes, cand_scores, img_idx, self.nms_thr)
        # to the host once (kept is by descending score), then per image
        k_img = img_idx[kept].cpu().numpy()
        k_box = cand_boxes[kept].cpu().numpy()
        k_score = cand_scores[kept].cpu().numpy()
        k_lmk = lmks[img_idx[kept], anchor_idx[kept]].cpu().numpy()
        out: List[List[Face]] = [[] for _ in imgs]
        for i, box, score, lmk in zip(k_img, k_box, k_score, k_lmk):
            if len(out[i]) < self.max_faces:
                out[i].append(Face(
                    bbox=(box / scales[i]).astype(np.float32),
                    score=float(score),
                    landmarks=(lmk / scales[i]).astype(np.float32)))
        return out

    def detect_batch(self, imgs: Sequence[np.ndarray]) -> List[List[Face]]:
        """Detect faces on several images, ``batch_size`` per forward pass.

        Images are grouped by their size after the ``max_side`` resize
        (a video's frames form one group), so no image is padded and each
        gets the faces it would get alone.

        Args:
            imgs (Sequence[np.ndarray]): BGR (or grey) uint8 images.

        Returns:
            list[list[Face]]: Per image, its faces by descending score.
        """
        prepared = [self._prepare(im) for im in imgs]
        groups: Dict[Tuple[int, int], List[int]] = {}
        for i, (im, _) in enumerate(prepared):
            groups.setdefault(im.shape[:2], []).append(i)
        out: List[Optional[List[Face]]] = [None] * len(prepared)
        for idx in groups.values():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start:start + self.batch_size]
                found = self._run([prepared[i][0] for i in chunk],
                                  [prepared[i][1] for i in chunk])
                for i, faces in zip(chunk, found):
                    out[i] = faces
        if self._refiner is not None:
            for img, faces in zip(imgs, out):
                for f in faces:
                    f.landmarks = self._refiner.fit_landmarks(img, f.bbox)
        return out

    def detect(self, img: np.ndarray) -> List[Face]:
        return self.detect_batch([img])[0]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(weights={self.weights!r}, '
                f'score_thr={self.score_thr}, nms_thr={self.nms_thr}, '
                f'max_side={self.max_side}, batch_size={self.batch_size}, '
                f'device={str(self.device)!r}, fp16={self.fp16}, '
                f'landmarks={self.landmarks})')
