from .face_clips import FaceClipDataset
from .face_forgery import FaceForgeryDataset
from .paired import flatten_collate, flatten_samples, paired_self_blend
from .shards import pack_annotation, read_shard_item, verify_shards
from .synthetic import RandomFaceDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['FaceForgeryDataset', 'FaceClipDataset', 'flatten_collate', 'flatten_samples',
           'paired_self_blend', 'pack_annotation', 'read_shard_item',
           'verify_shards', 'RandomFaceDataset']
