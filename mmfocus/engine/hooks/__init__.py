from .flops_hook import FlopsProfileHook
from .map_hook import ManipulationMapHook
from .rng_hook import RNGStateHook

__all__ = ['FlopsProfileHook', 'ManipulationMapHook', 'RNGStateHook']
