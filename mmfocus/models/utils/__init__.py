from ..data_preprocessors.modality_filters import ModalityFilter
from .map_targets import stack_map_targets
from .weight_init import StrictPretrainedInit

__all__ = ['ModalityFilter', 'StrictPretrainedInit', 'stack_map_targets']
