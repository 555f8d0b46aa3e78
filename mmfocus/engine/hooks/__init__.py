from .flops_hook import FlopsProfileHook
from .map_hook import ManipulationMapHook
from .rng_hook import RNGStateHook
from .vis_hook import ForgeryVisualizationHook

__all__ = ['FlopsProfileHook', 'ManipulationMapHook', 'RNGStateHook',
           'ForgeryVisualizationHook']
