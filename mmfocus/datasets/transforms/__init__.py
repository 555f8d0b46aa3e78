from .augment import PhotometricJitter, RandomAffineFace, RandomJPEG
from .clips import (LoadClip, LoadClipMasks, PackClipInputs, RandomClipFlip,
                    ResizeClip)
from .formatting import PackFaceInputs
from .geometric import RandomFaceFlip, ResizeFace
from .loading import LoadFace, LoadManipulationMask
from .modality import DCT, SRM, Sobel
from .perturbations import DeeperForensicsPerturbation
from .self_blend import SelfBlend

__all__ = [
    'LoadFace', 'LoadManipulationMask', 'ResizeFace', 'RandomFaceFlip',
    'PackFaceInputs', 'Sobel', 'DCT', 'SRM', 'SelfBlend', 'RandomAffineFace',
    'PhotometricJitter', 'RandomJPEG', 'DeeperForensicsPerturbation',
    'LoadClip', 'LoadClipMasks', 'ResizeClip', 'RandomClipFlip',
    'PackClipInputs'
]
