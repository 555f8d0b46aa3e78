from .modality import ModalityFilter

__all__ = ['ModalityFilter']
