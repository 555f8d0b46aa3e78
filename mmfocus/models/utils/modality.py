# Copyright (c) mmfocus contributors.
"""Deprecated location: the modality filters live in
:mod:`mmfocus.models.data_preprocessors.modality_filters` (one
implementation for the data preprocessor and the pipeline transforms)."""
import warnings

from ..data_preprocessors.modality_filters import *  # noqa: F401,F403
from ..data_preprocessors.modality_filters import __all__  # noqa: F401
from ..data_preprocessors.modality_filters import _matmul  # noqa: F401

warnings.warn('mmfocus.models.utils.modality moved to '
              'mmfocus.models.data_preprocessors.modality_filters; the old '
              'path goes in the next release', DeprecationWarning,
              stacklevel=2)
