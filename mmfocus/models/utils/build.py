# Copyright (c) mmfocus contributors.
"""Building sub-modules that come from other OpenMMLab packages."""
import importlib
from typing import Optional, Union

import torch.nn as nn
from mmengine.registry import DefaultScope

from mmfocus.registry import MODELS

ModuleOrCfg = Union[dict, nn.Module]


def import_upstream() -> None:
    """Register mmpretrain's and mmsegmentation's models.

    ``import mmfocus`` has already applied the ``mmcv._ext`` placeholder
    (:mod:`mmfocus.compat`) that ``import mmseg.models`` needs on mmcv-lite.
    """
    for name in ('mmpretrain.models', 'mmseg.models'):
        importlib.import_module(name)


def build_module(cfg: Optional[ModuleOrCfg]) -> Optional[nn.Module]:
    """Build a module from a config (or pass a module / None through).

    A ``'<scope>.Type'`` (e.g. ``'mmpretrain.ResNet'``) is built inside its
    own scope so that its sub-modules (e.g. FPNHead's default
    ``CrossEntropyLoss``) resolve in that package's registry.
    """
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    import_upstream()
    typ = cfg.get('type') if isinstance(cfg, dict) else None
    if isinstance(typ, str) and '.' in typ:
        with DefaultScope.overwrite_default_scope(typ.split('.', 1)[0]):
            return MODELS.build(cfg)
    return MODELS.build(cfg)
