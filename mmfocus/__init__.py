# Copyright (c) mmfocus contributors.
"""mmfocus: face forgery detection with learned manipulation maps (FoCus)."""
from . import compat  # noqa: F401  (stack fixes must run before mmseg imports)
from .utils.config_index import find_config, get_config, list_configs
from .version import __version__, version_info

__all__ = ['__version__', 'version_info', 'find_config', 'get_config',
           'list_configs']
