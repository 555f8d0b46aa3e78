# Copyright (c) mmfocus contributors.
"""The inputs of :class:`~mmfocus.apis.FocusInferencer`: paths, folders and
arrays expanded into one :class:`Source` per image, video or bad input."""
import os
import os.path as osp
from typing import List, Optional

import numpy as np

from mmfocus.utils.video import VIDEO_EXTS

__all__ = ['Source', 'expand_inputs', 'file_source']


class Source:
    """One input: an image file, an array, a video file, or a bad input."""

    def __init__(self, kind: str, name: str, path: Optional[str] = None,
                 array: Optional[np.ndarray] = None,
                 error: Optional[str] = None) -> None:
        self.kind, self.name, self.path = kind, name, path
        self.array, self.error = array, error


def expand_inputs(inputs) -> List[Source]:
    """The inputs of one call, each file of a folder (not recursive, hidden
    files left out) on its own; a bad input becomes a source with an
    ``error``, so it gets a result of its own."""
    if isinstance(inputs, (str, np.ndarray, os.PathLike)):
        inputs = [inputs]
    elif not isinstance(inputs, (list, tuple)):
        return [Source('error', repr(inputs)[:80], error=(
            f'unsupported input type {type(inputs).__name__}: expected '
            'a path, an array or a list of them'))]
    sources: List[Source] = []
    for i, item in enumerate(inputs):
        if isinstance(item, os.PathLike):
            item = os.fspath(item)
        if isinstance(item, np.ndarray):
            sources.append(Source('image', f'array_{i}', array=item))
        elif not isinstance(item, str):
            sources.append(Source('error', f'input_{i}', error=(
                f'input {i}: unsupported type {type(item).__name__} '
                '(expected a path or an array)')))
        elif osp.isdir(item):
            files = sorted(
                osp.join(item, f) for f in os.listdir(item)
                if not f.startswith('.')
                and osp.isfile(osp.join(item, f)))
            if not files:
                sources.append(Source('error', item, path=item,
                                      error=f'empty folder: {item}'))
            sources.extend(file_source(f) for f in files)
        elif not osp.exists(item):
            sources.append(Source('error', item, path=item,
                                  error=f'input not found: {item}'))
        else:
            sources.append(file_source(item))
    return sources


def file_source(path: str) -> Source:
    """An image or, by its extension (:data:`VIDEO_EXTS`), a video file."""
    kind = 'video' if path.lower().endswith(VIDEO_EXTS) else 'image'
    return Source(kind, path, path=path)
