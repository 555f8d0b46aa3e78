from .lst import LocalSequenceTransformer
from .vit import FoCusViT, distance_attn_bias, get_2d_sincos_pos_embed
from .xception import SeparableConv2d, Xception, XceptionBlock

__all__ = ['FoCusViT', 'distance_attn_bias', 'get_2d_sincos_pos_embed',
           'LocalSequenceTransformer']
__all__ += ['Xception', 'XceptionBlock', 'SeparableConv2d']
