from .checkpoint_hook import AtomicCheckpointHook
from .flops_hook import FlopsProfileHook
from .map_hook import ManipulationMapHook
from .rng_hook import RNGStateHook
from .runtime_info_hook import DeferredRuntimeInfoHook
from .vis_hook import ForgeryVisualizationHook

__all__ = ['AtomicCheckpointHook', 'FlopsProfileHook', 'ManipulationMapHook',
           'RNGStateHook', 'ForgeryVisualizationHook',
           'DeferredRuntimeInfoHook']
