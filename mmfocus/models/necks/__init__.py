from .carp import CARPNeck
from .cl import ComplementaryLearningNeck, token_selection

__all__ = ['CARPNeck', 'ComplementaryLearningNeck', 'token_selection']
