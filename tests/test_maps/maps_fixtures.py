"""Paths and tiny checkpoints shared by the map tests (a module name of its
own: several test folders have a ``conftest``)."""
import os.path as osp

import torch
import torch.nn as nn

HERE = osp.dirname(osp.abspath(__file__))
VIT_CFG = osp.join(HERE, 'vit_tiny.py')
CARP_CFG = osp.join(HERE, 'focus_tiny_no-carp.py')


def _spread(model: nn.Module, std: float = 0.3) -> None:
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.copy_(torch.randn(p.shape, generator=gen) * std)
            elif p.numel() > 1:
                p.add_(torch.randn(p.shape, generator=gen) * 0.1)


def save_tiny(cfg: str, path: str) -> str:
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

    from mmfocus.apis import init_model
    torch.manual_seed(0)
    model = init_model(cfg)
    _spread(model)
    save_checkpoint({'state_dict': weights_to_cpu(model.state_dict()),
                     'meta': dict(note='random tiny model for tests')},
                    path)
    return path
