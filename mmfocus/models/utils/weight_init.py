# Copyright (c) mmfocus contributors.
"""``init_cfg=dict(type='Pretrained', ...)`` that loads exactly or fails."""
from typing import Optional

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info

from mmfocus.registry import WEIGHT_INITIALIZERS
from mmfocus.utils.checkpoint import load_pretrained


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class StrictPretrainedInit:
    """Load a local pretrained file into a module; stop on any mismatch.

    Registered as ``'Pretrained'`` in the mmfocus scope, so it replaces
    mmengine's ``PretrainedInit`` for every mmfocus config (mmengine's loads
    with ``strict=False`` and only logs missing keys: a wrong file trains
    from partly random weights with exit code 0). Same arguments as
    mmengine's. A module with a ``load_pretrained_file(path, prefix)``
    method (e.g. :class:`~mmfocus.models.FoCusViT`, which drops a learned
    position embedding it does not keep) loads through it; any other
    module through :func:`mmfocus.utils.checkpoint.load_pretrained`:
    every parameter and persistent buffer must come from the file, with
    the same shape, and the file may hold nothing else.

    Args:
        checkpoint (str): Local checkpoint path (never a URL).
        prefix (str, optional): Sub-dict of the file to load, e.g.
            ``'backbone'`` of a whole-model checkpoint. Defaults to None.
        map_location (str): Accepted for compatibility; files are always
            read to the CPU first. Defaults to ``'cpu'``.

    Example:
        >>> backbone = dict(type='mmpretrain.EfficientNet', arch='b4',
        ...                 init_cfg=dict(type='Pretrained',
        ...                               checkpoint='ckpt/efb4.pth',
        ...                               prefix='backbone'))
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None,
                 map_location: str = 'cpu') -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location

    def __call__(self, module: nn.Module) -> None:
        print_log(f'load {self.prefix or "model"} from {self.checkpoint} '
                  '(strict)', logger='current')
        if hasattr(module, 'load_pretrained_file'):
            module.load_pretrained_file(self.checkpoint, prefix=self.prefix)
        else:
            load_pretrained(module, self.checkpoint, prefix=self.prefix)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint}'
