from .modality import ModalityFilter
from .weight_init import StrictPretrainedInit

__all__ = ['ModalityFilter', 'StrictPretrainedInit']
