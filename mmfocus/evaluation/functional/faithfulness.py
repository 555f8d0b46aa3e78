# Copyright (c) mmfocus contributors.
"""Faithfulness of a map: deletion and insertion curves, and their
random-map baseline (they call a score function, never a model class)."""
from typing import Callable, Optional, Tuple

import numpy as np

from .common import _as_numpy
from .resize import _squeeze_2d, resize_map

__all__ = ['deletion_insertion', 'deletion_insertion_random']


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    return float(((y[1:] + y[:-1]) * 0.5 * np.diff(x)).sum())


def _scores_of(score_fn: Callable, images: np.ndarray) -> np.ndarray:
    out = _as_numpy(score_fn(images)).astype(np.float64).reshape(-1)
    if out.shape[0] != images.shape[0]:
        raise ValueError(f'score_fn returned {out.shape[0]} scores for a '
                         f'batch of {images.shape[0]} images')
    return out


def deletion_insertion(score_fn: Callable,
                       img,
                       saliency,
                       steps: int = 20,
                       blur_sigma: float = 5.0,
                       batch_size: int = 32) -> dict:
    """Deletion and insertion curves of a map (faithfulness).

    The pixels are ranked by ``saliency`` (highest first; ties in raster
    order). For ``k = 0, 1/steps, ..., 1``:

    * **deletion**: the top ``k`` of the pixels are replaced by the same
      pixels of a Gaussian-blurred copy of ``img`` (``cv2.GaussianBlur``,
      ``blur_sigma``) and the fake score is recorded;
    * **insertion**: start from the fully blurred image and restore the top
      ``k`` of the original pixels.

    Each curve is summarised by its area (trapezoid rule, ``k`` in
    ``[0, 1]``). A map that points at what makes the face look fake gives a
    **lower deletion AUC** (the score drops as soon as those pixels go) and
    a **higher insertion AUC** than a random map
    (:func:`deletion_insertion_random`) on the same image.

    Args:
        score_fn (Callable): Maps a batch ``(N, H, W, 3)`` of images (the
            dtype of ``img``) to ``N`` fake scores (array, list or tensor).
            The caller wraps its model; this module knows none.
        img (array-like): ``(H, W, 3)`` image, uint8 or float.
        saliency (array-like): ``(h, w)`` map; resized bilinearly to
            ``(H, W)`` when it differs.
        steps (int): Number of steps from 0 % to 100 % (``steps + 1``
            points per curve). Defaults to 20.
        blur_sigma (float): Sigma (pixels) of the Gaussian blur. Defaults
            to 5.0.
        batch_size (int): Images per ``score_fn`` call. Defaults to 32.

    Returns:
        dict: ``deletion_auc`` and ``insertion_auc`` (floats) and ``curves``:
        ``dict(fractions, deletion, insertion)``, each a ``(steps + 1, )``
        array (the fractions of pixels deleted / inserted and the scores).

    Example:
        >>> res = deletion_insertion(lambda x: model_fake_score(x), face,
        ...                          focus_map, steps=10)
        >>> res['deletion_auc'] < random_baseline['deletion_auc']
    """
    import cv2
    img = _as_numpy(img)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'img must be (H, W, 3), got shape {img.shape}')
    if img.dtype not in (np.uint8, np.float32, np.float64):
        img = img.astype(np.float32)
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    sal = _squeeze_2d(_as_numpy(saliency).astype(np.float32))
    if sal.shape != (h, w):
        sal = resize_map(sal, (h, w))
    if not np.isfinite(sal).all():
        raise ValueError('saliency contains NaN or inf')
    if int(steps) < 1 or blur_sigma <= 0 or int(batch_size) < 1:
        raise ValueError(f'need steps >= 1, blur_sigma > 0, batch_size >= '
                         f'1; got {steps}, {blur_sigma}, {batch_size}')
    steps = int(steps)
    blurred = cv2.GaussianBlur(img, (0, 0), sigmaX=float(blur_sigma),
                               sigmaY=float(blur_sigma))
    order = np.argsort(-sal.reshape(-1), kind='stable')
    fractions = np.arange(steps + 1, dtype=np.float64) / steps
    counts = np.rint(fractions * h * w).astype(np.int64)

    def curve(start: np.ndarray, source: np.ndarray) -> np.ndarray:
        src = source.reshape(h * w, 3)
        scores = []
        for i in range(0, len(counts), int(batch_size)):
            chunk = counts[i:i + int(batch_size)]
            batch = np.repeat(start[None], len(chunk), axis=0)
            flat = batch.reshape(len(chunk), h * w, 3)
            for j, n in enumerate(chunk):
                idx = order[:n]
                flat[j, idx] = src[idx]
            scores.append(_scores_of(score_fn, batch))
        return np.concatenate(scores)

    deletion = curve(img, blurred)
    insertion = curve(blurred, img)
    return dict(deletion_auc=_trapezoid(deletion, fractions),
                insertion_auc=_trapezoid(insertion, fractions),
                curves=dict(fractions=fractions, deletion=deletion,
                            insertion=insertion))


def deletion_insertion_random(score_fn: Callable,
                              img,
                              steps: int = 20,
                              blur_sigma: float = 5.0,
                              seed: int = 0,
                              repeats: int = 1,
                              size: Optional[Tuple[int, int]] = None,
                              batch_size: int = 32) -> dict:
    """The random-map baseline of :func:`deletion_insertion`: the same
    curves for ``repeats`` uniform random saliency maps drawn from
    ``numpy.random.default_rng(seed)``.

    Args:
        score_fn (Callable): As in :func:`deletion_insertion`.
        img (array-like): ``(H, W, 3)`` image.
        steps (int): Defaults to 20.
        blur_sigma (float): Defaults to 5.0.
        seed (int): Seed of the random maps. Defaults to 0.
        repeats (int): Number of random maps averaged. Defaults to 1.
        size (tuple[int, int], optional): ``(h, w)`` of the random maps
            (upsampled to the image like a model's map, e.g. the token grid);
            None draws one value per pixel. Defaults to None.
        batch_size (int): Defaults to 32.

    Returns:
        dict: ``deletion_auc`` / ``insertion_auc`` (means over the repeats),
        ``deletion_aucs`` / ``insertion_aucs`` (one per repeat) and
        ``curves`` (the mean curves, as in :func:`deletion_insertion`).
    """
    h, w = _as_numpy(img).shape[:2]
    rng = np.random.default_rng(seed)
    runs = [
        deletion_insertion(score_fn, img, rng.random(size or (h, w)),
                           steps=steps, blur_sigma=blur_sigma,
                           batch_size=batch_size)
        for _ in range(max(1, int(repeats)))
    ]
    curves = dict(fractions=runs[0]['curves']['fractions'],
                  deletion=np.mean([r['curves']['deletion'] for r in runs],
                                   axis=0),
                  insertion=np.mean([r['curves']['insertion'] for r in runs],
                                    axis=0))
    dels = [r['deletion_auc'] for r in runs]
    ins = [r['insertion_auc'] for r in runs]
    return dict(deletion_auc=float(np.mean(dels)),
                insertion_auc=float(np.mean(ins)), deletion_aucs=dels,
                insertion_aucs=ins, curves=curves)
