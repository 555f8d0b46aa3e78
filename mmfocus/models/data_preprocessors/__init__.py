from .clip_preprocessor import ClipDataPreprocessor
from .focus_preprocessor import FoCusDataPreprocessor

__all__ = ['FoCusDataPreprocessor', 'ClipDataPreprocessor']
