from .face_forgery import FaceForgeryDataset
from .paired import flatten_collate, flatten_samples, paired_self_blend
from .transforms import *  # noqa: F401,F403

__all__ = ['FaceForgeryDataset', 'flatten_collate', 'flatten_samples',
           'paired_self_blend']
