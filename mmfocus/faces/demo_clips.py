# Copyright (c) mmfocus contributors.
"""Short synthetic clips for the demo's video models (LTTD).

Each real face crop of the demo data (``build_demo_dataset``) becomes a clip
of ``clip_len`` frames under a small smooth motion (a rotation, shift and
scale that follow one sine period over the clip, different per face), and
its pseudo-fake clip: one self-blend (mask and source made once from the
still face, :func:`~mmfocus.faces.sbi.make_blend_mask` /
:func:`~mmfocus.faces.sbi.make_source`, whole face or one region), moved
with the face and blended per frame with a blend strength that flickers by
up to 10 % between frames (as face swaps flicker). The frames' masks are
the moved masks times that strength: exact per-frame truths. These are real
photos with pseudo-fakes, NOT FaceForensics++ videos.
"""
import os
import os.path as osp
import shutil
import tempfile
import zlib
from typing import Sequence

import cv2
import numpy as np

from mmfocus.datasets.annotation import dump_annotation, load_annotation
from mmfocus.utils.io import atomic_save_image, imread_checked
from .demo import _replace_dir
from .sbi import blend, make_blend_mask, make_source

REGIONS = ('face', 'eyes', 'nose', 'mouth', 'cheek-left', 'cheek-right',
           'brows', 'random')
REGION_PROBS = (4, 1, 1, 1, 1, 1, 1, 1)


def clip_motion(rng: np.random.Generator, clip_len: int, size: int,
                max_rotate: float = 3.0, max_shift: float = 0.03,
                max_scale: float = 0.03) -> np.ndarray:
    """``(clip_len, 2, 3)`` affine matrices of one smooth motion: angle,
    shift and scale follow ``sin(2 pi t / clip_len + phase)`` with random
    amplitudes up to the limits (degrees; fractions of the side)."""
    phase = rng.uniform(0, 2 * np.pi, 4)
    amp = rng.uniform(0.3, 1.0, 4) * np.array(
        [max_rotate, max_shift * size, max_shift * size, max_scale])
    mats = []
    for t in range(clip_len):
        s = np.sin(2 * np.pi * t / clip_len + phase)
        m = cv2.getRotationMatrix2D((size / 2, size / 2), amp[0] * s[0],
                                    1.0 + amp[3] * s[3])
        m[:, 2] += (amp[1] * s[1], amp[2] * s[2])
        mats.append(m)
    return np.stack(mats)


def _warp(img: np.ndarray, mat: np.ndarray, size: int,
          interp=cv2.INTER_LINEAR) -> np.ndarray:
    return cv2.warpAffine(img, mat, (size, size), flags=interp,
                          borderMode=cv2.BORDER_REFLECT_101)


def build_demo_clips(faces_root: str = 'data/demo_faces',
                     out: str = 'data/demo_clips',
                     clip_len: int = 8,
                     size: int = 64,
                     seed: int = 0,
                     splits: Sequence[str] = ('train', 'val', 'test'),
                     force: bool = False,
                     verbose: bool = True) -> dict:
    """Write ``real/<video>/<t>.png``, ``fake/<video>/<t>.png``,
    ``mask/<video>/<t>.png`` and ``<split>.json`` clip annotations (one
    entry per clip: ``img_path`` = first frame, ``clip_paths``,
    ``clip_mask_paths``, ``clip_pair_paths``, ``frame_indices``,
    ``clip_idx``; the split of the demo faces is kept). Built in a
    temporary sibling folder and moved into place; identical inputs give
    identical files.

    Returns:
        dict: Clips per split and method.
    """
    out = osp.abspath(out)
    if osp.exists(out) and not force:
        raise FileExistsError(f'output folder exists: {out} (use --force to '
                              'rebuild it)')
    if clip_len < 2:
        raise ValueError(f'clip_len must be >= 2, got {clip_len}')
    os.makedirs(osp.dirname(out), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.', dir=osp.dirname(out))
    summary = dict(clip_len=clip_len, size=size, seed=seed, splits={})
    try:
        for split in splits:
            ann = load_annotation(osp.join(faces_root, f'{split}.json'))
            entries, counts = [], {}
            for e in ann['data_list']:
                if int(e['gt_label']) != 0 or e.get('landmarks') is None:
                    continue
                name = osp.splitext(osp.basename(e['img_path']))[0]
                rng = np.random.default_rng(
                    [seed, zlib.crc32(name.encode())])
                img = imread_checked(osp.join(faces_root, e['img_path']),
                                     cv2.IMREAD_COLOR)
                lms = np.asarray(e['landmarks'], np.float32)
                side = img.shape[0]
                region = str(rng.choice(REGIONS, p=np.array(REGION_PROBS) /
                                        sum(REGION_PROBS)))
                mask = make_blend_mask(img.shape[:2], lms, rng, region=region)
                src = make_source(img, lms, rng)
                mats = clip_motion(rng, clip_len, side)
                strength = 1.0 - 0.1 * rng.random(clip_len)
                method = 'sbi' if region == 'face' else f'sbi-{region}'
                paths = {k: [] for k in ('real', 'fake', 'mask')}
                for t in range(clip_len):
                    real_t = _warp(img, mats[t], side)
                    src_t = _warp(src, mats[t], side)
                    mask_t = _warp(mask, mats[t], side) * strength[t]
                    fake_t = blend(real_t, src_t, mask_t)
                    for kind, im in (('real', real_t), ('fake', fake_t),
                                     ('mask', np.rint(mask_t * 255).astype(
                                         np.uint8))):
                        small = cv2.resize(im, (size, size),
                                           interpolation=cv2.INTER_AREA)
                        rel = f'{kind}/{name}/{t:03d}.png'
                        atomic_save_image(osp.join(tmp, rel), small)
                        paths[kind].append(rel)
                base = dict(video_id=name, clip_idx=0,
                            frame_indices=list(range(clip_len)))
                entries.append(dict(img_path=paths['real'][0], gt_label=0,
                                    method='real', clip_paths=paths['real'],
                                    clip_mask_paths=None,
                                    clip_pair_paths=None, **base))
                entries.append(dict(img_path=paths['fake'][0], gt_label=1,
                                    method=method, clip_paths=paths['fake'],
                                    clip_mask_paths=paths['mask'],
                                    clip_pair_paths=paths['real'],
                                    **dict(base, video_id=f'{name}_fake')))
                counts[method] = counts.get(method, 0) + 1
                counts['real'] = counts.get('real', 0) + 1
            meta = dict(ann['metainfo'], dataset='demo-clips',
                        clip_len=clip_len, split=split,
                        description='synthetic clips of real photos under a '
                        'smooth motion + self-blended pseudo-fakes, NOT '
                        'FaceForensics++')
            with open(osp.join(tmp, f'{split}.json'), 'w') as f:
                f.write(dump_annotation(meta, entries))
            summary['splits'][split] = counts
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if verbose:
        for split, counts in summary['splits'].items():
            print(f'{split:5s}: ' + ', '.join(
                f'{k} {v}' for k, v in sorted(counts.items())))
    summary['out'] = out
    return summary
