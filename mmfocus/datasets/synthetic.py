# Copyright (c) mmfocus contributors.
"""Random face-sized samples, already packed: a dataset for timing the
training loop without decoding or augmentation."""
from typing import Sequence

import torch
from torch.utils.data import Dataset

from mmfocus.registry import DATASETS


@DATASETS.register_module()
class RandomFaceDataset(Dataset):
    """``num_samples`` random samples as ``PackFaceInputs`` makes them:
    ``inputs`` a ``(3, H, W)`` uint8 image and ``data_samples`` a
    ``DataSample`` with ``gt_label`` (the classes in turn) and, when
    ``with_masks``, an all-zero ``(H, W)`` float ``gt_mask``.

    The images are drawn once, from a generator seeded with ``seed`` (the
    global RNG is not used); every read returns a new ``DataSample`` over
    them, as a real dataset does, so that code which edits a sample (the
    FoCus preprocessor drops ``gt_mask`` in training) cannot change the
    next read. Reading costs almost nothing, so a loop fed by it is timed
    without the data pipeline (``tools/analysis/benchmark_loop.py``).

    Args:
        num_samples (int): Distinct samples; reads wrap around.
        shape (Sequence[int]): ``(H, W)``.
        with_masks (bool): Add ``gt_mask``. Defaults to True.
        num_classes (int): Defaults to 2.
        seed (int): Defaults to 0.
    """

    def __init__(self, num_samples: int, shape: Sequence[int],
                 with_masks: bool = True, num_classes: int = 2,
                 seed: int = 0) -> None:
        if num_samples < 1:
            raise ValueError(f'RandomFaceDataset num_samples must be >= 1, '
                             f'got {num_samples}')
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError(f'RandomFaceDataset shape must be (H, W), got '
                             f'{shape}')
        self.shape = (int(shape[0]), int(shape[1]))
        self.with_masks = bool(with_masks)
        self.num_classes = int(num_classes)
        gen = torch.Generator().manual_seed(int(seed))
        self.images = [torch.randint(0, 256, (3, *self.shape),
                                     dtype=torch.uint8, generator=gen)
                       for _ in range(int(num_samples))]
        self.metainfo = dict(classes=('real', 'fake'))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        from mmpretrain.structures import DataSample
        i = i % len(self.images)
        ds = DataSample().set_gt_label(i % self.num_classes)
        if self.with_masks:
            ds.set_field(torch.zeros(self.shape), 'gt_mask',
                         dtype=torch.Tensor)
        return dict(inputs=self.images[i], data_samples=ds)
