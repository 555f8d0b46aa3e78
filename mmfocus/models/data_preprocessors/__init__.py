from .focus_preprocessor import FoCusDataPreprocessor

__all__ = ['FoCusDataPreprocessor']
