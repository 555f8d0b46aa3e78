from .carp import CARPNeck
from .cl import ComplementaryLearningNeck, token_selection
from .gffd import (DualCrossModalityAttention, GFFDFusion,
                   ResidualGuidedSpatialAttention, SRMFeatureBlock,
                   rsa_reweight)
from .hrnetv2 import HRNetV2Concat
from .madd import (AttentionModule, TextureEnhancement, agda_soft_drop,
                   agda_strength, bilinear_attention_pooling,
                   regional_independence_loss)

__all__ = ['CARPNeck', 'ComplementaryLearningNeck', 'token_selection']
__all__ += ['HRNetV2Concat']
__all__ += ['SRMFeatureBlock', 'ResidualGuidedSpatialAttention',
            'DualCrossModalityAttention', 'GFFDFusion', 'rsa_reweight']
__all__ += ['AttentionModule', 'TextureEnhancement',
            'bilinear_attention_pooling', 'regional_independence_loss',
            'agda_strength', 'agda_soft_drop']
