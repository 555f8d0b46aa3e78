# Copyright (c) mmfocus contributors.
"""A real face beside its own self-blended fake, under one augmentation."""
import copy
import random
from typing import Any, Callable, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import default_collate

from mmfocus.registry import FUNCTIONS


def paired_self_blend(pipeline: Callable[[dict], dict],
                      info: dict, seed: Optional[int] = None) -> List[dict]:
    """Run ``pipeline`` twice on a real face: as itself, then as its fake.

    As Self-Blended Images trains (Shiohara & Yamasaki, CVPR 2022), the real
    face and the fake made from it then share the *same* augmentation
    (identity, pose, crop and photometric jitter), so only the blend
    separates them. Both runs start from one seed drawn from ``np.random``
    (``np.random``, ``random`` and ``torch`` are reseeded for each run and
    restored afterwards, so the stream goes on as if one sample was drawn);
    ``sbi_force`` is set to False, then True, which
    :class:`~mmfocus.datasets.transforms.SelfBlend` obeys instead of its
    ``prob``.

    Args:
        pipeline (Callable): The data pipeline; it must hold a ``SelfBlend``.
        info (dict): A real face's data info.
        seed (int, optional): The seed of both runs; None draws it from
            ``np.random``. Defaults to None.

    Returns:
        list[dict]: ``[real, fake]`` pipeline outputs.
    """
    if int(info.get('gt_label', 0)) != 0:
        raise ValueError(f'paired self-blending needs real faces, got a '
                         f'fake: {info.get("img_path")}')
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    states = (np.random.get_state(), random.getstate(), torch.get_rng_state())
    out = []
    try:
        for force in (False, True):
            np.random.seed(seed)
            random.seed(seed)
            torch.manual_seed(seed)
            results = copy.deepcopy(info)
            results['sbi_force'] = force
            out.append(pipeline(results))
    finally:
        np.random.set_state(states[0])
        random.setstate(states[1])
        torch.set_rng_state(states[2])
    return out


def flatten_samples(data_batch: Sequence[Any]) -> List[Any]:
    """The samples of a batch with list-valued items (e.g. the ``[real,
    fake]`` pairs of ``FaceForgeryDataset(paired_self_blend=True)``)
    spliced in, in order; other items are kept as they are."""
    flat: List[Any] = []
    for item in data_batch:
        flat.extend(item if isinstance(item, (list, tuple)) else [item])
    return flat


@FUNCTIONS.register_module()
def flatten_collate(data_batch: Sequence[Any]) -> Any:
    """mmengine's ``default_collate`` over :func:`flatten_samples`:
    ``batch_size`` pairs give ``2 * batch_size`` images."""
    return default_collate(flatten_samples(data_batch))
