# Copyright (c) mmfocus contributors.
"""Online self-blended pseudo-fakes (SBI) as a data transform."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmfocus.faces.sbi import (BLEND_RATIOS, CUES, HULL_TYPES, REGIONS,
                               check_cues, self_blend)
from mmfocus.registry import TRANSFORMS


def _worker_id() -> int:
    try:
        from torch.utils.data import get_worker_info
    except ImportError:  # pragma: no cover
        return 0
    info = get_worker_info()
    return 0 if info is None else int(info.id)


@TRANSFORMS.register_module()
class SelfBlend(BaseTransform):
    """Turn a real face into a self-blended pseudo-fake with probability
    ``prob`` (Shiohara & Yamasaki, CVPR 2022; see :mod:`mmfocus.faces.sbi`).

    Place it after image loading and before any geometric augmentation
    (``landmarks`` must be in the coordinates of the current ``img``, as
    stored by ``tools/misc/build_demo_data.py``) and before normalisation.

    Randomness: with ``seed=None`` (default) each call draws a seed from the
    global ``np.random`` state, which mmengine seeds per dataloader worker
    (``randomness=dict(seed=...)`` makes runs reproducible). With an integer
    ``seed`` the transform owns a generator seeded by ``(seed, worker id)``,
    reproducible even without mmengine, and different per worker.

    Required Keys:

    - img (np.ndarray): ``(H, W, 3)`` uint8 BGR face crop.
    - landmarks (np.ndarray | list): ``(68, 2)`` points ``x, y`` in ``img``
      pixels.
    - gt_label (int): 0 real, 1 fake.

    Modified Keys:

    - img (blended fake when a real sample is turned fake)
    - gt_label (set to 1 when turned fake)
    - method (set to ``'sbi'`` (whole face) or ``'sbi-<region>'`` when
      turned fake, only if present)

    Optional Keys:

    - sbi_force (bool): Decide real/fake by this instead of ``prob`` (the
      random stream is consumed the same way either way). Set by
      :class:`~mmfocus.datasets.PairedSelfBlendDataset` so that a real face
      and its own fake share every other augmentation.

    Added Keys:

    - gt_mask (np.ndarray): ``(H, W)`` float32 blend mask in ``[0, 1]``;
      all zeros for a real sample that stays real (replaces the zeros
      ``LoadManipulationMask`` gives reals). A sample that is already fake
      (``gt_label == 1``) is left untouched, including the ``gt_mask`` it
      carries (load stored fakes' masks with ``LoadManipulationMask``
      before this transform, so batches stay uniform).
    - has_mask (bool): True (the mask of a real or a self-blended fake is
      known), set whenever ``gt_mask`` is set.
    - region (str): The blended region (``'face'``, ``'mouth'``, ...), when
      turned fake.

    Args:
        prob (float): Probability of turning a real sample fake.
            Defaults to 0.5.
        seed (int, optional): See "Randomness" above. Defaults to None.
        hull_types (tuple[str]): Mask hull variants. Defaults to
            ``('full', 'extended', 'lower', 'inner')``.
        blend_ratios (tuple[float]): Mask scale factors. Defaults to
            ``(0.25, 0.5, 0.75, 1, 1, 1)``.
        max_shift (float): Max source shift relative to the face size.
            Defaults to 0.03.
        scale_range (tuple[float, float]): Source scale range.
            Defaults to (0.95, 1.05).
        regions (tuple[str]): Blend regions drawn from (see
            :data:`mmfocus.faces.sbi.REGIONS`): ``'face'`` (the whole-face
            SBI hulls) and local parts (``'eyes'``, ``'nose'``, ``'mouth'``,
            ``'cheek-left'``, ``'cheek-right'``, ``'brows'``, ``'random'``).
            Defaults to ``('face', )``.
        region_probs (tuple[float], optional): Probability of each region
            (normalised); None draws them uniformly. Defaults to None.
        cues (tuple[str]): What the blended-in source differs in (see
            :data:`mmfocus.faces.sbi.CUES`): colour, sharpness, geometry.
            One cue alone is a single-modality diagnostic, e.g.
            ``('sharpness', )``. Defaults to all three (the SBI recipe).
        sharpness_sigma (tuple[float, float]): Sigma range (pixels of the
            stored crop) of the sharpness change. Defaults to (0.5, 1.5).
    """

    def __init__(self,
                 prob: float = 0.5,
                 seed: Optional[int] = None,
                 hull_types: tuple = HULL_TYPES,
                 blend_ratios: tuple = BLEND_RATIOS,
                 max_shift: float = 0.03,
                 scale_range: tuple = (0.95, 1.05),
                 regions: tuple = ('face', ),
                 region_probs: Optional[tuple] = None,
                 cues: tuple = CUES,
                 sharpness_sigma: tuple = (0.5, 1.5)) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        regions = tuple(regions)
        unknown = [r for r in regions if r not in REGIONS]
        if not regions or unknown:
            raise ValueError(f'SelfBlend regions must be a non-empty subset '
                             f'of {REGIONS}, got {regions}')
        if region_probs is not None:
            probs = np.asarray(region_probs, dtype=np.float64)
            if probs.shape != (len(regions), ) or (probs < 0).any() or \
                    probs.sum() <= 0:
                raise ValueError(f'region_probs must be {len(regions)} '
                                 f'non-negative weights, got {region_probs}')
            region_probs = tuple(float(p) for p in probs / probs.sum())
        self.regions = regions
        self.region_probs = region_probs
        self.cues = check_cues(cues)
        lo, hi = (float(v) for v in sharpness_sigma)
        if not 0 < lo <= hi:
            raise ValueError(f'sharpness_sigma must be 0 < lo <= hi, got '
                             f'{sharpness_sigma}')
        self.sharpness_sigma = (lo, hi)
        self.prob = float(prob)
        self.seed = seed
        self.hull_types = tuple(hull_types)
        self.blend_ratios = tuple(float(r) for r in blend_ratios)
        self.max_shift = float(max_shift)
        self.scale_range = tuple(scale_range)
        self._rng = None
        self._rng_worker = None

    def _generator(self) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng(np.random.randint(0, 2**31 - 1))
        wid = _worker_id()
        if self._rng is None or self._rng_worker != wid:
            self._rng = np.random.default_rng([int(self.seed), wid])
            self._rng_worker = wid
        return self._rng

    def transform(self, results: dict) -> dict:
        for key in ('img', 'landmarks', 'gt_label'):
            if key not in results:
                raise KeyError(f'SelfBlend needs the key {key!r} in results '
                               f'(got {sorted(results)})')
        img = results['img']
        label = int(np.asarray(results['gt_label']).reshape(-1)[0])
        if label == 1:
            return results
        rng = self._generator()
        results['has_mask'] = True
        turn_fake = rng.random() < self.prob
        if results.get('sbi_force') is not None:
            turn_fake = bool(results['sbi_force'])
        if not turn_fake:
            results['gt_mask'] = np.zeros(img.shape[:2], dtype=np.float32)
            return results
        region = self.regions[0]
        if len(self.regions) > 1:
            region = self.regions[int(
                rng.choice(len(self.regions), p=self.region_probs))]
        landmarks = np.asarray(results['landmarks'], dtype=np.float32)
        fake, mask = self_blend(
            img, landmarks, rng, hull_types=self.hull_types,
            blend_ratios=self.blend_ratios, max_shift=self.max_shift,
            scale_range=self.scale_range, region=region, cues=self.cues,
            sharpness_sigma=self.sharpness_sigma)
        results['img'] = fake
        results['gt_label'] = 1
        results['gt_mask'] = mask
        results['region'] = region
        if 'method' in results:
            results['method'] = 'sbi' if region == 'face' else \
                f'sbi-{region}'
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'seed={self.seed}, hull_types={self.hull_types}, '
                f'blend_ratios={self.blend_ratios}, '
                f'max_shift={self.max_shift}, '
                f'scale_range={self.scale_range}, '
                f'regions={self.regions}, cues={self.cues}, '
                f'region_probs={self.region_probs})')
