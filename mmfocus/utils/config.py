# Copyright (c) mmfocus contributors.
"""Config helpers shared by the tools."""
import difflib
from typing import Dict

from mmengine.config import Config, ConfigDict


def _has_path(cfg, dotted: str) -> bool:
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in dotted.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit():
            idx = int(part)
            if idx >= len(node):
                return False
            node = node[idx]
        elif isinstance(node, (dict, ConfigDict)) and part in node:
            node = node[part]
        else:
            return False
    return True


def _candidates(cfg, prefix: str = ''):
    if isinstance(cfg, (dict, ConfigDict)):
        for k, v in cfg.items():
            path = f'{prefix}{k}'
            yield path
            yield from _candidates(v, path + '.')


def merge_cfg_options(cfg: Config, options: Dict, allow_new: bool = False
                      ) -> None:
    """Merge ``--cfg-options``, refusing keys the config does not have.

    A typo such as ``model.backbone.drop_path=0.1`` would otherwise be added
    silently and change nothing.

    Raises:
        KeyError: naming the unknown key and the closest existing ones.
    """
    if not options:
        return
    if not allow_new:
        for key in options:
            if not _has_path(cfg, key):
                near = difflib.get_close_matches(
                    key, list(_candidates(cfg._cfg_dict.to_dict())), n=3)
                hint = f'; did you mean {near}?' if near else ''
                raise KeyError(f'unknown config key "{key}" in --cfg-options'
                               f'{hint} (use --allow-new-keys to add it)')
    cfg.merge_from_dict(options)
