"""Paths, tiny-model weights and output readers shared by the map tests (a
module name of its own: several test folders have a ``conftest``)."""
import json
import os.path as osp

import cv2
import numpy as np
import torch
import torch.nn as nn

HERE = osp.dirname(osp.abspath(__file__))
VIT_CFG = osp.join(HERE, 'vit_tiny.py')
CARP_CFG = osp.join(HERE, 'focus_tiny_no-carp.py')


def spread(model: nn.Module, std: float = 0.3) -> None:
    """Redraw the weights with a larger spread than timm's 0.02 (in place)
    so that attention and CAM maps are far from uniform."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * std)
            elif p.numel() > 1:
                p.add_(torch.randn(p.shape, generator=gen) * 0.1)


def read_entries(path: str) -> list:
    """The ``data_list`` of an annotation file."""
    with open(path) as f:
        return json.load(f)['data_list']


def read_map(path: str) -> np.ndarray:
    """An 8-bit grey map PNG written by tools/generate_maps.py, in [0, 1]."""
    m = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert m is not None and m.dtype == np.uint8 and m.ndim == 2, path
    return m.astype(np.float32) / 255.
