# Copyright (c) mmfocus contributors.
"""Dataset converters: videos in each dataset's published layout -> aligned
face crops and mmengine BaseDataset annotation files.

The shared machinery (frame sampling, offline face detection and cropping,
masks, per-video records, resuming, sharding, merging, reports) lives in
:mod:`.engine`; each dataset module only lists its videos as
:class:`VideoTask` s. Command-line front ends: ``tools/dataset_converters/``.
"""
from .celebdf import (CELEBDF_FOLDERS, collect_celebdf, convert_celebdf,
                      load_celebdf_test_list)
from .crops import binarize_mask, crop_frame, crop_mask, largest_face
from .engine import (DEFAULT_DETECTOR, SPLITS, ConvertSettings, VideoTask,
                     convert_videos, format_summary, load_record,
                     merge_records, parse_shard, process_video)
from .ffpp import (FFPP_METHODS, collect_ffpp, convert_ffpp,
                   load_ffpp_splits)
from .video import (VideoReadError, probe_frame_count, read_frames,
                    sample_indices)

__all__ = [
    'VideoTask', 'ConvertSettings', 'DEFAULT_DETECTOR', 'SPLITS',
    'convert_videos', 'process_video', 'merge_records', 'load_record',
    'parse_shard', 'format_summary', 'largest_face', 'crop_frame',
    'crop_mask', 'binarize_mask', 'VideoReadError', 'sample_indices',
    'probe_frame_count', 'read_frames', 'FFPP_METHODS', 'collect_ffpp',
    'convert_ffpp', 'load_ffpp_splits', 'CELEBDF_FOLDERS', 'collect_celebdf',
    'convert_celebdf', 'load_celebdf_test_list'
]
