# Copyright (c) mmfocus contributors.
"""Self-Blended Images (SBI): pseudo-fakes with a known soft blend mask.

Written from the description in Shiohara & Yamasaki, "Detecting Deepfakes
with Self-Blended Images", CVPR 2022 (see docs method.md, section 5): a face
is blended with a slightly altered copy of itself,

    fake = mask * src + (1 - mask) * img,

where ``src`` is the same face with a colour and/or sharpness change and a
small random affine shift/scale, and ``mask`` is a landmark convex hull,
elastically deformed, Gaussian-blurred and scaled by a blend ratio drawn from
``{0.25, 0.5, 0.75, 1, 1, 1}``. The mask is a ground-truth manipulation map
for the fake, which is what lets mmfocus measure map quality.

Everything is driven by one ``np.random.Generator``, so a fake is fully
determined by ``(img, landmarks, rng state)``. All operations are cv2 calls
on the crop: a few ms for a 224 px face on one CPU core, ~1 ms at 112 px.
"""
from typing import List, Sequence, Tuple, Union

import cv2
import numpy as np

#: Mask shapes: convex hull of all 68 points; with the eyebrows pushed up
#: (covers the forehead); of the lower face (jaw + nose bridge); of the inner
#: face (eyebrows, eyes, nose, mouth).
HULL_TYPES = ('full', 'extended', 'lower', 'inner')
BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)
#: Blend regions: the whole face (the SBI paper's hulls, ``HULL_TYPES``) or
#: one facial part from the 68 landmarks ("left"/"right" are image sides).
REGIONS = ('face', 'eyes', 'nose', 'mouth', 'cheek-left', 'cheek-right',
           'brows', 'random')
LOCAL_REGIONS = REGIONS[1:]
#: What the source image may differ in: colour (RGB / HSV / brightness-
#: contrast shifts), sharpness (blur or unsharp masking) and geometry (the
#: small scale and shift). All three by default (the SBI recipe); one cue
#: alone is the diagnostic of a single modality (e.g. ``('sharpness', )``:
#: a blend the Sobel view sees and whose colours are unchanged).
CUES = ('colour', 'sharpness', 'geometry')
# dlib 68-point indices (iBUG 300-W layout, image coordinates)
_EYE_L, _EYE_R = list(range(36, 42)), list(range(42, 48))
_CHEEK_L = [1, 2, 3, 4, 5, 6, 48, 31, 40, 41, 36]
_CHEEK_R = [15, 14, 13, 12, 11, 10, 54, 35, 47, 46, 45]


def _hull_points(landmarks: np.ndarray, hull_type: str,
                 rng: np.random.Generator) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2)
    if len(lm) != 68 or hull_type == 'full':
        return lm
    if hull_type == 'extended':
        brows = lm[17:27]
        lift = rng.uniform(0.2, 0.6)
        brows = brows + (brows - lm[30]) * lift  # away from the nose tip
        return np.concatenate([lm[0:17], brows])
    if hull_type == 'lower':
        return np.concatenate([lm[1:16], lm[28:29]])
    if hull_type == 'inner':
        return lm[17:68]
    raise ValueError(f'unknown hull type {hull_type!r}; expected one of '
                     f'{HULL_TYPES}')


def _elastic(mask: np.ndarray, amplitude: float, grid: int,
             rng: np.random.Generator) -> np.ndarray:
    """Smooth random displacement field (coarse Gaussian grid, bicubic
    upsampled) applied to ``mask`` with ``cv2.remap``."""
    h, w = mask.shape
    disp = rng.normal(0.0, amplitude, size=(2, grid, grid)).astype(np.float32)
    map_x = cv2.resize(disp[0], (w, h), interpolation=cv2.INTER_CUBIC)
    map_y = cv2.resize(disp[1], (w, h), interpolation=cv2.INTER_CUBIC)
    map_x += np.arange(w, dtype=np.float32)[None, :]
    map_y += np.arange(h, dtype=np.float32)[:, None]
    return cv2.remap(mask, map_x, map_y, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _scaled(pts: np.ndarray, sx: float, sy: float) -> np.ndarray:
    c = (pts.min(0) + pts.max(0)) / 2
    return (c + (pts - c) * np.array([sx, sy], np.float32)).astype(
        np.float32)


def region_polygons(landmarks: np.ndarray, region: str,
                    rng: np.random.Generator) -> List[np.ndarray]:
    """Point sets (each filled as its convex hull) of a local region.

    ``'eyes'``: both eyes with their lids (two hulls); ``'nose'``: bridge
    to nostrils; ``'mouth'``: lips and their surround; ``'cheek-left'`` /
    ``'cheek-right'``: jaw to nose side to lower eyelid on that image side;
    ``'brows'``: both eyebrows and the forehead above them (lifted by a
    random 30-60 % of their distance to the nose tip); ``'random'``: a
    random landmark and its 6-15 nearest landmarks.

    Args:
        landmarks (np.ndarray): ``(68, 2)`` points ``x, y``.
        region (str): One of :data:`LOCAL_REGIONS`.
        rng (np.random.Generator): Random source (used by ``'brows'`` and
            ``'random'`` only).

    Returns:
        list[np.ndarray]: ``(K, 2)`` float32 point sets.
    """
    lm = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2)
    if len(lm) != 68:
        raise ValueError(f'region {region!r} needs 68 landmarks, got '
                         f'{len(lm)}')
    if region == 'eyes':
        return [_scaled(lm[_EYE_L], 1.6, 2.6), _scaled(lm[_EYE_R], 1.6, 2.6)]
    if region == 'nose':
        return [_scaled(lm[27:36], 1.5, 1.15)]
    if region == 'mouth':
        return [_scaled(lm[48:60], 1.3, 1.5)]
    if region == 'cheek-left':
        return [lm[_CHEEK_L]]
    if region == 'cheek-right':
        return [lm[_CHEEK_R]]
    if region == 'brows':
        brows = lm[17:27]
        lift = np.float32(rng.uniform(0.3, 0.6))
        return [np.concatenate([brows, brows + (brows - lm[30]) * lift])]
    if region == 'random':
        centre = lm[int(rng.integers(68))]
        k = int(rng.integers(6, 16))
        near = np.argsort(((lm - centre)**2).sum(1), kind='stable')[:k]
        return [_scaled(lm[near], 1.3, 1.3)]
    raise ValueError(f'unknown blend region {region!r}; expected one of '
                     f'{REGIONS}')


def _region_mask(shape: Tuple[int, int], landmarks: np.ndarray,
                 region: str, rng: np.random.Generator,
                 elastic_amplitude: Tuple[float, float],
                 blur_sigma: Tuple[float, float]) -> np.ndarray:
    """Unscaled soft mask (peak 1) of a local region at ``shape``."""
    h, w = shape
    polys = region_polygons(landmarks, region, rng)
    lm = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2)
    face = float(max((lm.max(0) - lm.min(0)).max(), 1.0))
    mask = np.zeros((h, w), dtype=np.float32)
    extent = 1.0
    for pts in polys:
        extent = max(extent, float((pts.max(0) - pts.min(0)).max()))
        hull = cv2.convexHull(np.round(pts * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0, lineType=cv2.LINE_8, shift=4)
    # a thin hull (e.g. collinear jaw points) still covers some skin
    radius = max(1, int(round(0.03 * face)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                       (2 * radius + 1, 2 * radius + 1))
    mask = cv2.dilate(mask, kernel)
    amp = rng.uniform(*elastic_amplitude) * extent
    mask = _elastic(mask, amp, int(rng.integers(3, 6)), rng)
    sigma = max(rng.uniform(*blur_sigma) * extent, 0.5)
    return cv2.GaussianBlur(mask, (0, 0), sigma,
                            borderType=cv2.BORDER_CONSTANT)


def make_blend_mask(shape: Tuple[int, int],
                    landmarks: np.ndarray,
                    rng: np.random.Generator,
                    hull_types: Sequence[str] = HULL_TYPES,
                    blend_ratios: Sequence[float] = BLEND_RATIOS,
                    elastic_amplitude: Tuple[float, float] = (0.01, 0.04),
                    blur_sigma: Tuple[float, float] = (0.02, 0.06),
                    work_size: int = 128,
                    region: str = 'face') -> np.ndarray:
    """Random soft blend mask from facial landmarks.

    Args:
        shape (tuple[int, int]): ``(H, W)`` of the mask.
        landmarks (np.ndarray): ``(68, 2)`` points ``x, y`` (any ``N >= 3``
            works for ``region='face'``; non-68 layouts always use the full
            hull).
        rng (np.random.Generator): Random source.
        hull_types (Sequence[str]): Hull variants to draw from
            (``region='face'`` only). Defaults to :data:`HULL_TYPES`.
        blend_ratios (Sequence[float]): Ratios the mask is multiplied by.
            Defaults to ``(0.25, 0.5, 0.75, 1, 1, 1)``.
        elastic_amplitude (tuple[float, float]): Range of the displacement
            std, relative to the face size (to the region's size for a
            local region). Defaults to (0.01, 0.04).
        blur_sigma (tuple[float, float]): Range of the Gaussian blur sigma,
            relative to the face size (to the region's size for a local
            region). Defaults to (0.02, 0.06).
        work_size (int): The (smooth) mask is drawn, deformed and blurred
            at most this many pixels on its longer side, then resized
            bilinearly to ``shape``. Defaults to 128.
        region (str): ``'face'`` (a whole-face hull) or one of
            :data:`LOCAL_REGIONS` (see :func:`region_polygons`); a local
            region is dilated by 3 % of the face size before the elastic
            deformation and blur. Defaults to ``'face'``.

    Returns:
        np.ndarray: ``(H, W)`` float32 mask in ``[0, 1]``, exactly 0 far
        from the blended region.
    """
    h, w = int(shape[0]), int(shape[1])
    if region not in REGIONS:
        raise ValueError(f'unknown blend region {region!r}; expected one '
                         f'of {REGIONS}')
    r = min(1.0, work_size / max(h, w))
    wh, ww = max(1, round(h * r)), max(1, round(w * r))
    if region == 'face':
        hull_type = hull_types[int(rng.integers(len(hull_types)))]
        pts = _hull_points(landmarks, hull_type, rng)
        if len(pts) < 3:
            raise ValueError(f'need at least 3 landmarks, got {len(pts)}')
        pts = (pts + 0.5) * np.float32(r) - 0.5  # pixel-centre convention
        face = float(max((pts.max(0) - pts.min(0)).max(), 1.0))
        mask = np.zeros((wh, ww), dtype=np.float32)
        # polygon vertices with 4 fractional bits (sub-pixel placement)
        hull = cv2.convexHull(np.round(pts * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0, lineType=cv2.LINE_8, shift=4)
        amp = rng.uniform(*elastic_amplitude) * face
        grid = int(rng.integers(3, 6))
        mask = _elastic(mask, amp, grid, rng)
        sigma = max(rng.uniform(*blur_sigma) * face, 0.5)
        mask = cv2.GaussianBlur(mask, (0, 0), sigma,
                                borderType=cv2.BORDER_CONSTANT)
    else:
        lm = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2)
        lm = (lm + 0.5) * np.float32(r) - 0.5
        mask = _region_mask((wh, ww), lm, region, rng, elastic_amplitude,
                            blur_sigma)
    if (wh, ww) != (h, w):
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    peak = float(mask.max())
    if peak > 0:
        mask *= np.float32(1.0 / peak)
    ratio = float(blend_ratios[int(rng.integers(len(blend_ratios)))])
    mask *= np.float32(ratio)
    return np.clip(mask, 0.0, 1.0, out=mask)


#: Elastic amplitude / blur ranges of local-region masks, relative to the
#: region's extent (a mouth or an eye is small: face-relative values would
#: blur it away).
LOCAL_ELASTIC = (0.02, 0.06)
LOCAL_BLUR = (0.06, 0.15)


def _signed(rng: np.random.Generator, lo: float, hi: float,
            size=None) -> Union[float, np.ndarray]:
    """Magnitude in [lo, hi) with a random sign (never near zero)."""
    mag = rng.uniform(lo, hi, size=size)
    sign = np.where(rng.random(size=size) < 0.5, -1.0, 1.0)
    return mag * sign


def _lut(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def make_source(img: np.ndarray,
                landmarks: np.ndarray,
                rng: np.random.Generator,
                max_shift: float = 0.03,
                scale_range: Tuple[float, float] = (0.95, 1.05),
                cues: Sequence[str] = CUES,
                sharpness_sigma: Tuple[float, float] = (0.5, 1.5)
                ) -> np.ndarray:
    """The altered copy of the face that gets blended in.

    At least one colour change (per-channel RGB shift, HSV shift,
    brightness/contrast), with probability 0.5 a sharpness change (blur or
    unsharp masking), then a random scale about the face centre and a shift
    of up to ``max_shift`` of the face size. All on uint8 with look-up
    tables, so it stays cheap. ``cues`` restricts the changes (see
    :data:`CUES`); without ``'colour'`` the sharpness change always
    happens, so every source differs from the face.

    Args:
        img (np.ndarray): ``(H, W, 3)`` uint8 BGR image.
        landmarks (np.ndarray): ``(N, 2)`` points, for the face centre/size.
        rng (np.random.Generator): Random source.
        max_shift (float): Max translation, relative to the face size.
            Defaults to 0.03.
        scale_range (tuple[float, float]): Scale range. Defaults to
            (0.95, 1.05).
        cues (Sequence[str]): A non-empty subset of :data:`CUES`.
            Defaults to all.
        sharpness_sigma (tuple[float, float]): Range of the Gaussian sigma
            (pixels of ``img``) of the blur / unsharp mask. Defaults to
            (0.5, 1.5).

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 source image.
    """
    cues = check_cues(cues)
    levels = np.arange(256, dtype=np.float64)
    src = img
    ops = rng.random(3) < 0.5
    if not ops.any():
        ops[int(rng.integers(3))] = True
    if 'colour' not in cues:
        ops[:] = False
    if ops[0]:  # per-channel colour shift
        shift = _signed(rng, 4.0, 20.0, size=3)
        lut = np.stack([_lut(levels + s) for s in shift], axis=1)
        src = cv2.LUT(src, lut.reshape(256, 1, 3))
    if ops[1]:  # hue / saturation / value (OpenCV uint8 HSV, hue 0..179)
        hsv = cv2.cvtColor(src, cv2.COLOR_BGR2HSV)
        hue = levels + _signed(rng, 1.0, 4.0)
        lut = np.stack([
            (np.rint(hue).astype(np.int64) % 180).astype(np.uint8),
            _lut(levels * (1.0 + _signed(rng, 0.05, 0.3))),
            _lut(levels * (1.0 + _signed(rng, 0.03, 0.15)))
        ], axis=1)
        src = cv2.cvtColor(cv2.LUT(hsv, lut.reshape(256, 1, 3)),
                           cv2.COLOR_HSV2BGR)
    if ops[2]:  # brightness / contrast about the mean grey level
        alpha = 1.0 + _signed(rng, 0.05, 0.2)
        beta = _signed(rng, 3.0, 15.0)
        mean = float(np.mean(cv2.mean(src)[:3]))
        src = cv2.LUT(src, _lut((levels - mean) * alpha + mean + beta))
    sharpen = rng.random() < 0.5
    if 'sharpness' not in cues:
        sharpen = False
    elif 'colour' not in cues:
        sharpen = True
    if sharpen:  # sharpness
        sigma = rng.uniform(*sharpness_sigma)
        blurred = cv2.GaussianBlur(src, (0, 0), sigma)
        if rng.random() < 0.5:
            src = blurred
        else:
            amount = rng.uniform(0.5, 1.5)
            src = cv2.addWeighted(src, 1.0 + amount, blurred, -amount, 0.0)

    if 'geometry' not in cues:
        return src
    pts = np.asarray(landmarks, dtype=np.float32).reshape(-1, 2)
    cx, cy = (pts.min(0) + pts.max(0)) / 2
    face = float(max((pts.max(0) - pts.min(0)).max(), 1.0))
    scale = rng.uniform(*scale_range)
    tx, ty = rng.uniform(-max_shift, max_shift, size=2) * face
    affine = np.array([[scale, 0.0, (1 - scale) * cx + tx],
                       [0.0, scale, (1 - scale) * cy + ty]], dtype=np.float64)
    h, w = img.shape[:2]
    return cv2.warpAffine(src, affine, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT_101)


def check_cues(cues: Sequence[str]) -> Tuple[str, ...]:
    """``cues`` as a tuple; ValueError unless a non-empty subset of
    :data:`CUES`."""
    cues = (cues, ) if isinstance(cues, str) else tuple(cues)
    if not cues or any(c not in CUES for c in cues):
        raise ValueError(f'cues must be a non-empty subset of {CUES}, got '
                         f'{cues}')
    return cues


def blend(img: np.ndarray, src: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``rint(img + mask * (src - img))`` as uint8, i.e.
    ``mask * src + (1 - mask) * img``, exactly ``img`` where ``mask == 0``."""
    out = src.astype(np.float32)
    out -= img
    out *= mask.astype(np.float32, copy=False)[..., None]
    out += img
    np.rint(out, out=out)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def self_blend(img: np.ndarray,
               landmarks: np.ndarray,
               rng: np.random.Generator,
               return_source: bool = False,
               **kwargs) -> tuple:
    """Make a self-blended pseudo-fake and its blend mask.

    Equivalent to ``mask = make_blend_mask(img.shape[:2], landmarks, rng)``,
    ``src = make_source(img, landmarks, rng)``, ``blend(img, src, mask)``
    with the same generator, in that order.

    Args:
        img (np.ndarray): ``(H, W, 3)`` uint8 BGR face crop.
        landmarks (np.ndarray): ``(68, 2)`` landmarks in ``img`` pixels.
        rng (np.random.Generator): Random source; the result is a pure
            function of its state.
        return_source (bool): Also return ``src``. Defaults to False.
        **kwargs: ``region``, ``hull_types``, ``blend_ratios``,
            ``elastic_amplitude``, ``blur_sigma``, ``work_size`` go to
            :func:`make_blend_mask` (a local ``region`` defaults to
            :data:`LOCAL_ELASTIC` / :data:`LOCAL_BLUR`);
            ``max_shift``, ``scale_range``, ``cues``, ``sharpness_sigma``
            to :func:`make_source`.

    Returns:
        tuple: ``(fake, mask)`` or ``(fake, mask, src)``; ``fake`` and
        ``src`` are uint8 like ``img``, ``mask`` is ``(H, W)`` float32 in
        ``[0, 1]``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> fake, mask = self_blend(crop, landmarks, rng)
    """
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'self_blend expects an (H, W, 3) uint8 image, got '
                         f'{img.dtype} {img.shape}')
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f'rng must be a np.random.Generator, got {type(rng)}')
    mask_keys = ('hull_types', 'blend_ratios', 'elastic_amplitude',
                 'blur_sigma', 'work_size', 'region')
    src_keys = ('max_shift', 'scale_range', 'cues', 'sharpness_sigma')
    unknown = set(kwargs) - set(mask_keys) - set(src_keys)
    if unknown:
        raise TypeError(f'unknown self_blend option(s): {sorted(unknown)}')
    mask_kw = {k: kwargs[k] for k in mask_keys if k in kwargs}
    if mask_kw.get('region', 'face') != 'face':
        mask_kw.setdefault('elastic_amplitude', LOCAL_ELASTIC)
        mask_kw.setdefault('blur_sigma', LOCAL_BLUR)
    mask = make_blend_mask(img.shape[:2], landmarks, rng, **mask_kw)
    src = make_source(img, landmarks, rng,
                      **{k: kwargs[k] for k in src_keys if k in kwargs})
    fake = blend(img, src, mask)
    return (fake, mask, src) if return_source else (fake, mask)
