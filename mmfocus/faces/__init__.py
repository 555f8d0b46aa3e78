# Copyright (c) mmfocus contributors.
"""Face tools shared by converters, demo data and inference: detector
backends, square crops, and self-blended pseudo-fakes with their masks."""
from .align import crop_affine, crop_face, square_box
from .detectors import (DEFAULT_DETECTOR, BaseFaceDetector, DlibDetector,
                        Face, RetinaFaceDetector, build_face_detector,
                        detect_multiscale, dlib_shape_predictor_path,
                        implausible_face)
from .retinaface import (RetinaFaceNet, TorchRetinaFaceDetector,
                         convert_retinaface, load_retinaface)
from .sbi import (BLEND_RATIOS, HULL_TYPES, blend, make_blend_mask,
                  make_source, self_blend)

__all__ = [
    'DEFAULT_DETECTOR', 'detect_multiscale', 'implausible_face',
    'Face', 'BaseFaceDetector', 'DlibDetector', 'RetinaFaceDetector',
    'TorchRetinaFaceDetector', 'RetinaFaceNet', 'convert_retinaface',
    'load_retinaface',
    'build_face_detector', 'dlib_shape_predictor_path', 'crop_face',
    'crop_affine', 'square_box', 'self_blend', 'make_blend_mask',
    'make_source', 'blend', 'HULL_TYPES', 'BLEND_RATIOS'
]
