# Copyright (c) mmfocus contributors.
"""Dataset converters: videos in each dataset's published layout -> aligned
face crops and mmengine BaseDataset annotation files.

The shared machinery (frame sampling, offline face detection and cropping,
masks, per-video records, resuming, sharding, merging, reports) lives in
:mod:`.engine`; each dataset module only lists its videos (or, for
WildDeepfake, its face-sequence folders) as :class:`VideoTask` s and hands
them to :func:`run_conversion` with its metainfo.
Command-line front ends: ``tools/dataset_converters/``.
"""
from .celebdf import (CELEBDF_FOLDERS, collect_celebdf, convert_celebdf,
                      load_celebdf_test_list)
from .crops import binarize_mask, crop_frame, crop_mask, largest_face
from .dfdc import (collect_dfdc, convert_dfdc, find_dfdc_parts,
                   load_dfdc_labels, load_dfdc_part_metadata)
from .dfdcp import collect_dfdcp, convert_dfdcp, load_dfdcp_index
from .engine import (DEFAULT_DETECTOR, SPLITS, ConvertSettings, VideoTask,
                     convert_videos, format_summary, load_record,
                     merge_records, parse_shard, process_video,
                     run_conversion)
from .ffpp import (FFPP_METHODS, collect_ffpp, convert_ffpp,
                   load_ffpp_splits)
from .video import (FRAME_EXTENSIONS, VideoReadError, list_frame_files,
                    probe_frame_count, read_frames, sample_indices)
from .wdf import (WDF_FOLDERS, WholeFrameDetector, collect_wdf, convert_wdf,
                  find_wdf_sequences)

__all__ = [
    'VideoTask', 'ConvertSettings', 'DEFAULT_DETECTOR', 'SPLITS',
    'convert_videos', 'run_conversion', 'process_video', 'merge_records',
    'load_record', 'parse_shard', 'format_summary', 'largest_face',
    'crop_frame', 'crop_mask', 'binarize_mask', 'VideoReadError',
    'sample_indices',
    'probe_frame_count', 'read_frames', 'list_frame_files',
    'FRAME_EXTENSIONS', 'FFPP_METHODS', 'collect_ffpp', 'convert_ffpp',
    'load_ffpp_splits', 'CELEBDF_FOLDERS', 'collect_celebdf',
    'convert_celebdf', 'load_celebdf_test_list', 'collect_dfdc',
    'convert_dfdc', 'find_dfdc_parts', 'load_dfdc_labels',
    'load_dfdc_part_metadata', 'collect_dfdcp', 'convert_dfdcp',
    'load_dfdcp_index', 'WDF_FOLDERS', 'WholeFrameDetector', 'collect_wdf',
    'convert_wdf', 'find_wdf_sequences'
]
