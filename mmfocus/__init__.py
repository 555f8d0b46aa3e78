# Copyright (c) mmfocus contributors.
"""mmfocus: face forgery detection with learned manipulation maps (FoCus)."""
from . import compat  # noqa: F401  (stack fixes must run before mmseg imports)
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
