# Copyright (c) mmfocus contributors.
"""DeeperForensics-1.0 perturbations (Table IV robustness study).

Re-implements ``perturbation/distortions.py`` of
EndlessSora/DeeperForensics-1.0 for a single face image, with its 7 types x
5 levels (``add_distortion_to_video.py``, ``get_distortion_parameter``).
What each type computes is in
``docs/en/user_guides/robustness.md``; the differences from the original are:

* ``block``: the original draws ``min(h, w) // 256 * n`` blocks, i.e. none
  on an image under 256 px (a 224 px face crop); here
  ``max(1, round(n * min(h, w) / 256))`` blocks, equal to the original on
  256 px multiples.
* ``compression``: the original re-encodes the whole video with
  ``ffmpeg -crf``; here one image goes through an H.264 (libx264, yuv420p)
  round trip: encoded as a one-frame video at that CRF and decoded back,
  in memory with PyAV (``pip install av``; its wheels ship libx264), or
  with the ``ffmpeg`` binary; only when neither is there (``backend=
  'auto'``, with a warning; or ``backend='jpeg'``) JPEG at
  :data:`CRF_TO_JPEG_QUALITY` stands in. The single frame is an I-frame:
  x264 codes it with its I-frame quantiser, a little finer than the P/B
  frames that make up most of a re-encoded video at the same CRF.
* Values are clipped to [0, 255] before the ``uint8`` cast (the original
  casts directly; identical wherever the original stays in range).
"""
import os.path as osp
import shutil
import subprocess
import tempfile
import warnings
import zlib
from fractions import Fraction
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmfocus.registry import TRANSFORMS

#: The DeeperForensics-1.0 parameter of each type per level 1..5.
PERTURBATION_PARAMS = {
    'saturation': (0.4, 0.3, 0.2, 0.1, 0.0),  # CS: CbCr scale
    'contrast': (0.85, 0.725, 0.6, 0.475, 0.35),  # CC: pixel scale
    'block': (16, 32, 48, 64, 80),  # BW: 8x8 grey blocks per 256 px
    'noise': (0.001, 0.002, 0.005, 0.01, 0.05),  # GNC: variance
    'blur': (7, 9, 13, 17, 21),  # GB: kernel size, sigma = k / 6
    'pixelation': (2, 3, 4, 5, 6),  # 'JPEG' in their code: down-up factor
    'compression': (30, 32, 35, 38, 40),  # VC: x264 CRF
}
PERTURBATION_TYPES = tuple(PERTURBATION_PARAMS)

#: JPEG quality used for a CRF when no H.264 encoder is available. A
#: heuristic (quality = 100 - 2 * CRF), *not* an equivalence: x264 at CRF
#: 30-40 and JPEG at 40-20 both give visibly blocky, low-detail faces.
CRF_TO_JPEG_QUALITY = {30: 40, 32: 36, 35: 30, 38: 24, 40: 20}

BLOCK_SIZE = 8
BLOCK_VALUE = 128


def _bgr2ycbcr(img: np.ndarray) -> np.ndarray:
    """DeeperForensics' ``bgr2ycbcr`` (float32 cv2 YCrCb, studio range)."""
    ycrcb = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_BGR2YCrCb)
    ycbcr = ycrcb[:, :, (0, 2, 1)].astype(np.float32)
    ycbcr[:, :, 0] = (ycbcr[:, :, 0] * (235 - 16) + 16) / 255.0
    ycbcr[:, :, 1:] = (ycbcr[:, :, 1:] * (240 - 16) + 16) / 255.0
    return ycbcr


def _ycbcr2bgr(ycbcr: np.ndarray) -> np.ndarray:
    """DeeperForensics' ``ycbcr2bgr`` (inverse of :func:`_bgr2ycbcr`)."""
    ycbcr = ycbcr.astype(np.float32)
    ycbcr[:, :, 0] = (ycbcr[:, :, 0] * 255.0 - 16) / (235 - 16)
    ycbcr[:, :, 1:] = (ycbcr[:, :, 1:] * 255.0 - 16) / (240 - 16)
    ycrcb = np.ascontiguousarray(ycbcr[:, :, (0, 2, 1)])
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2BGR)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    # truncation like the original's astype(np.uint8), clipped first
    return np.clip(img, 0, 255).astype(np.uint8)


def color_saturation(img: np.ndarray, param: float) -> np.ndarray:
    """Scale Cb and Cr about their centre by ``param`` (0 = grey)."""
    ycbcr = _bgr2ycbcr(img)
    ycbcr[:, :, 1:] = 0.5 + (ycbcr[:, :, 1:] - 0.5) * param
    return _to_uint8(_ycbcr2bgr(ycbcr))


def color_contrast(img: np.ndarray, param: float) -> np.ndarray:
    """Multiply every pixel value by ``param``."""
    return _to_uint8(img.astype(np.float32) * param)


def num_blocks(param: int, h: int, w: int) -> int:
    """Blocks drawn on an ``h x w`` image for a per-256-px count."""
    return max(1, int(round(param * min(h, w) / 256.0)))


def block_wise(img: np.ndarray, param: int,
               rng: np.random.RandomState) -> np.ndarray:
    """Paste grey 8x8 blocks at random positions (overlaps allowed)."""
    img = img.copy()
    h, w = img.shape[:2]
    if h <= BLOCK_SIZE or w <= BLOCK_SIZE:
        raise ValueError(f'block-wise perturbation needs an image larger '
                         f'than {BLOCK_SIZE} px, got {h}x{w}')
    for _ in range(num_blocks(param, h, w)):
        # randint(0, W - 1 - width) inclusive, like the original
        x = rng.randint(0, w - BLOCK_SIZE)
        y = rng.randint(0, h - BLOCK_SIZE)
        img[y:y + BLOCK_SIZE, x:x + BLOCK_SIZE] = BLOCK_VALUE
    return img


def gaussian_noise_color(img: np.ndarray, param: float,
                         rng: np.random.RandomState) -> np.ndarray:
    """White Gaussian noise of variance ``param`` on Y, Cb and Cr."""
    ycbcr = _bgr2ycbcr(img) / 255.0
    noisy = (ycbcr + np.sqrt(param) * rng.randn(*ycbcr.shape)) * 255.0
    return _to_uint8(_ycbcr2bgr(noisy.astype(np.float32)))


def gaussian_blur(img: np.ndarray, param: int) -> np.ndarray:
    """``cv2.GaussianBlur`` with a ``param`` kernel and sigma ``param/6``."""
    return cv2.GaussianBlur(img, (param, param), param * 1.0 / 6)


def pixelation(img: np.ndarray, param: int) -> np.ndarray:
    """Bilinear resize down by ``param`` (floor) and back up."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // param), max(1, h // param)),
                       interpolation=cv2.INTER_LINEAR)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _have_pyav() -> bool:
    """PyAV is importable and has the libx264 encoder."""
    try:
        import av
        av.codec.Codec('libx264', 'w')
    except Exception:  # noqa: BLE001 - ImportError, or no libx264 in av
        return False
    return True


def resolve_compression_backend(backend: str = 'auto') -> str:
    """Resolve ``'auto'`` to ``'pyav'``, ``'ffmpeg'`` or ``'jpeg'``.

    Raises:
        RuntimeError: an explicitly requested backend is not available.
    """
    if backend not in ('auto', 'pyav', 'ffmpeg', 'jpeg'):
        raise ValueError(f'compression backend must be auto, pyav, ffmpeg '
                         f'or jpeg, got {backend!r}')
    if backend == 'pyav' and not _have_pyav():
        raise RuntimeError('compression backend pyav requested but PyAV '
                           '(`import av`, with the libx264 encoder) is not '
                           'installed: pip install av')
    if backend == 'ffmpeg' and shutil.which('ffmpeg') is None:
        raise RuntimeError('compression backend ffmpeg requested but no '
                           '`ffmpeg` binary is on PATH')
    if backend != 'auto':
        return backend
    if _have_pyav():
        return 'pyav'
    if shutil.which('ffmpeg') is not None:
        return 'ffmpeg'
    return 'jpeg'


def _pad_even(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.copyMakeBorder(img, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)


def _h264_pyav(img: np.ndarray, crf: int) -> np.ndarray:
    """libx264 (yuv420p, CRF ``crf``) encode of one frame and its decode,
    in memory (PyAV codec contexts, no container, no temporary file)."""
    import av
    h, w = img.shape[:2]
    enc = av.CodecContext.create('libx264', 'w')
    enc.width, enc.height = w, h
    enc.pix_fmt = 'yuv420p'
    enc.time_base = Fraction(1, 25)
    enc.options = {'crf': str(crf)}
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img),
                                       format='bgr24').reformat(
                                           format='yuv420p')
    frame.pts = 0
    packets = list(enc.encode(frame)) + list(enc.encode(None))
    dec = av.CodecContext.create('h264', 'r')
    decoded = []
    for packet in packets:
        decoded += dec.decode(packet)
    decoded += dec.decode(None)
    if not decoded:
        raise RuntimeError(f'libx264 (PyAV) returned no frame for a '
                           f'{w}x{h} image at CRF {crf}')
    return decoded[0].to_ndarray(format='bgr24')[:h, :w]


def _h264_ffmpeg(img: np.ndarray, crf: int) -> np.ndarray:
    h, w = img.shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        src, mid, dst = (osp.join(tmp, n)
                         for n in ('in.png', 'mid.mp4', 'out.png'))
        cv2.imwrite(src, img)
        for cmd in (['ffmpeg', '-y', '-loglevel', 'error', '-i', src,
                     '-c:v', 'libx264', '-crf', str(crf), '-pix_fmt',
                     'yuv420p', mid],
                    ['ffmpeg', '-y', '-loglevel', 'error', '-i', mid,
                     '-frames:v', '1', dst]):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f'ffmpeg failed ({" ".join(cmd)}): '
                                   f'{proc.stderr.strip()[-300:]}')
        dec = cv2.imread(dst, cv2.IMREAD_COLOR)
    if dec is None:
        raise RuntimeError('ffmpeg wrote no decodable frame')
    return dec[:h, :w]


def video_compression(img: np.ndarray, param: int,
                      backend: str = 'jpeg') -> np.ndarray:
    """Compress one image as H.264 at CRF ``param`` (or its JPEG stand-in).

    Args:
        img (np.ndarray): BGR uint8.
        param (int): x264 CRF.
        backend (str): ``'pyav'``, ``'ffmpeg'`` or ``'jpeg'`` (resolved,
            see :func:`resolve_compression_backend`).
    """
    h, w = img.shape[:2]  # yuv420p needs even sides: pad, then crop back
    if backend == 'pyav':
        return np.ascontiguousarray(_h264_pyav(_pad_even(img), param)[:h, :w])
    if backend == 'ffmpeg':
        return np.ascontiguousarray(
            _h264_ffmpeg(_pad_even(img), param)[:h, :w])
    if backend != 'jpeg':
        raise ValueError(f'unresolved compression backend {backend!r}')
    quality = CRF_TO_JPEG_QUALITY.get(int(param), max(1, 100 - 2 * int(param)))
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('cv2.imencode failed to write a JPEG')
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


@TRANSFORMS.register_module()
class DeeperForensicsPerturbation(BaseTransform):
    """One DeeperForensics-1.0 perturbation at one level (1-5).

    Put it right after ``LoadFace`` in a test pipeline (the original applies
    it to the video frames before face cropping; here to the face crop).

    **Required Keys:** ``img`` (BGR uint8); ``img_path`` (optional, seeds the
    per-image randomness when ``seed`` is given)

    **Modified Keys:** ``img``

    **Added Keys:** ``perturbation`` (``dict(kind, level, param)``, plus
    ``backend`` for compression)

    The perturbation is named ``kind`` (not ``type``, which a config dict
    uses for the registry name).

    Args:
        kind (str): One of ``saturation``, ``contrast``, ``block``,
            ``noise``, ``blur``, ``pixelation``, ``compression``.
        level (int): 1 (mildest) to 5 (strongest).
        seed (int, optional): Seed of the random blocks and noise. With a
            seed each image gets its own stream from
            ``(seed, crc32(img_path))`` so results do not depend on order
            or workers. Defaults to None (numpy's global random state,
            which mmengine seeds).
        compression_backend (str): ``'auto'`` (PyAV, else the ``ffmpeg``
            binary, else JPEG with a warning), ``'pyav'``, ``'ffmpeg'`` (an
            error if missing) or ``'jpeg'``. Defaults to ``'auto'``.

    Example:
        >>> t = DeeperForensicsPerturbation(kind='blur', level=3)
        >>> t(dict(img=np.zeros((64, 64, 3), np.uint8)))['img'].shape
        (64, 64, 3)
    """

    def __init__(self, kind: str, level: int, seed: Optional[int] = None,
                 compression_backend: str = 'auto') -> None:
        if kind not in PERTURBATION_PARAMS:
            raise ValueError(f'unknown perturbation kind {kind!r}; expected '
                             f'one of {list(PERTURBATION_TYPES)}')
        if isinstance(level, bool) or int(level) != level or \
                not 1 <= int(level) <= 5:
            raise ValueError(f'perturbation level must be 1..5, got {level!r}')
        self.kind = kind
        self.level = int(level)
        self.param = PERTURBATION_PARAMS[kind][self.level - 1]
        self.seed = seed
        self.compression_backend = compression_backend
        self.backend = None
        if kind == 'compression':
            self.backend = resolve_compression_backend(
                compression_backend)
            if self.backend == 'jpeg' and compression_backend == 'auto':
                warnings.warn(
                    'neither PyAV (pip install av) nor an ffmpeg binary '
                    'is available: '
                    f'compression CRF {self.param} is approximated by JPEG '
                    f'quality {CRF_TO_JPEG_QUALITY[self.param]} (see '
                    'docs/en/user_guides/robustness.md)')
        self._rng = np.random.RandomState(seed) if seed is not None else None

    def _rng_for(self, results: dict):
        if self.seed is None:
            return np.random.mtrand._rand
        path = results.get('img_path')
        if path is None:
            return self._rng
        return np.random.RandomState(
            [int(self.seed) & 0xFFFFFFFF,
             zlib.crc32(str(path).encode('utf-8'))])

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f'{self.__class__.__name__} expects a BGR uint8 '
                             f'image, got {img.dtype} {img.shape}')
        t, p = self.kind, self.param
        if t == 'saturation':
            out = color_saturation(img, p)
        elif t == 'contrast':
            out = color_contrast(img, p)
        elif t == 'block':
            out = block_wise(img, p, self._rng_for(results))
        elif t == 'noise':
            out = gaussian_noise_color(img, p, self._rng_for(results))
        elif t == 'blur':
            out = gaussian_blur(img, p)
        elif t == 'pixelation':
            out = pixelation(img, p)
        else:
            out = video_compression(img, p, self.backend)
        results['img'] = out
        info = dict(kind=t, level=self.level, param=p)
        if self.backend is not None:
            info['backend'] = self.backend
        results['perturbation'] = info
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(kind={self.kind!r}, '
                f'level={self.level}, seed={self.seed}, '
                f'compression_backend={self.compression_backend!r})')
