from .artifact_detection_head import ArtifactDetectionHead
from .car_head import CARHead, minmax_normalize
from .face_xray_head import FaceXrayHead
from .patch_consistency_head import PatchConsistencyHead

__all__ = [
    'CARHead', 'minmax_normalize', 'PatchConsistencyHead',
    'ArtifactDetectionHead'
]
__all__ += ['FaceXrayHead']
