# Copyright (c) mmfocus contributors.
from .autocast_wrapper import AutocastOptimWrapper

__all__ = ['AutocastOptimWrapper']
