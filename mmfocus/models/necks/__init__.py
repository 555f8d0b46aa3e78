from .carp import CARPNeck
from .cl import ComplementaryLearningNeck, token_selection
from .gffd import (DualCrossModalityAttention, GFFDFusion,
                   ResidualGuidedSpatialAttention, SRMFeatureBlock,
                   rsa_reweight)
from .hrnetv2 import HRNetV2Concat

__all__ = ['CARPNeck', 'ComplementaryLearningNeck', 'token_selection']
__all__ += ['HRNetV2Concat']
__all__ += ['SRMFeatureBlock', 'ResidualGuidedSpatialAttention',
            'DualCrossModalityAttention', 'GFFDFusion', 'rsa_reweight']
