from .face_forgery import FaceForgeryDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['FaceForgeryDataset']
