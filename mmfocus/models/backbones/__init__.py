from .lst import LocalSequenceTransformer
from .vit import FoCusViT, get_2d_sincos_pos_embed

__all__ = ['FoCusViT', 'get_2d_sincos_pos_embed', 'LocalSequenceTransformer']
