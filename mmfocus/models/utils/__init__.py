from ..data_preprocessors.modality_filters import ModalityFilter
from .weight_init import StrictPretrainedInit

__all__ = ['ModalityFilter', 'StrictPretrainedInit']
