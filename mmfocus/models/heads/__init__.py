from .artifact_detection_head import ArtifactDetectionHead
from .car_head import CARHead, minmax_normalize
from .patch_consistency_head import PatchConsistencyHead

__all__ = [
    'CARHead', 'minmax_normalize', 'PatchConsistencyHead',
    'ArtifactDetectionHead'
]
