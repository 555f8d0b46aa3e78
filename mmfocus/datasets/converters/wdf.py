# Copyright (c) mmfocus contributors.
"""WildDeepfake (WDF) in its published layout -> face crops + annotations.

WildDeepfake ships face *frame sequences*, not videos: four folders (the
``{real,fake}_{train,test}`` archives, extracted)::

    <root>/real_train/ <root>/fake_train/ <root>/real_test/ <root>/fake_test/

each holding, at any depth (the per-video ``N.tar.gz`` archives extract to
``N/{real,fake}/<sequence>/``), sequence folders of already-cropped face
images (``0.png``, ``1.png``, ... or ``.jpg``). Every folder that directly
holds images is one sequence, i.e. one "video" for mmfocus: its frames are
the images in natural order (``2.png`` before ``10.png``), sampled evenly
like a video's; its video id is ``<split folder>/<path>`` (e.g.
``fake_test/11/fake/3``). An archive (``.tar.gz`` / ``.tgz`` / ``.tar``) that
was not extracted is listed in the report as missing.

Faces: the frames are face crops already. ``faces='detect'`` runs the face
detector on them like on any video frame (frames where it finds no face are
reported); ``faces='given'`` takes every frame as the face
(:class:`WholeFrameDetector`): the crop is the square around the whole frame
(``margin`` relative to its longer side; 1.0 keeps it as is) and no
landmarks are stored.

WDF has no pairing and no masks. The field tests on the test folders
(FoCus: cross-dataset test, method section 3): they become ``test.json``;
``include_train`` also converts the train folders into ``train.json``.
"""
import glob
import os
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

from mmfocus.faces import Face
from mmfocus.faces.detectors import BaseFaceDetector
from mmfocus.registry import FACE_DETECTORS
from .engine import VideoTask, run_conversion
from .video import FRAME_EXTENSIONS

#: split folder -> (label, split)
WDF_FOLDERS = {'real_train': (0, 'train'), 'fake_train': (1, 'train'),
               'real_test': (0, 'test'), 'fake_test': (1, 'test')}
ARCHIVE_EXTENSIONS = ('.tar.gz', '.tgz', '.tar')


@FACE_DETECTORS.register_module()
class WholeFrameDetector(BaseFaceDetector):
    """Pass-through "detector" for frames that are face crops already: one
    face whose box is the whole frame, score 1, no landmarks.

    Example:
        >>> face = WholeFrameDetector().detect(np.zeros((40, 30, 3)))[0]
        >>> face.bbox.tolist(), face.landmarks
        ([0.0, 0.0, 30.0, 40.0], None)
    """

    def detect(self, img: np.ndarray) -> List[Face]:
        h, w = np.asarray(img).shape[:2]
        if not h or not w:
            return []
        return [Face(bbox=np.array([0, 0, w, h], np.float32), score=1.0)]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


def _archive_stem(name: str) -> Optional[str]:
    for ext in ARCHIVE_EXTENSIONS:
        if name.lower().endswith(ext):
            return name[:-len(ext)]
    return None


def find_wdf_sequences(folder: str) -> Tuple[List[str], List[str]]:
    """Sequence folders under one split folder.

    Args:
        folder (str): e.g. ``<root>/fake_test``.

    Returns:
        tuple: sequence folders relative to ``folder`` (sorted) and
        archives in ``folder`` whose extracted folder is absent.
    """
    seqs = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        if any(n.lower().endswith(FRAME_EXTENSIONS) and not n.startswith('.')
               for n in filenames):
            seqs.append(osp.relpath(dirpath, folder).replace(os.sep, '/'))
    if '.' in seqs:
        raise ValueError(f'{folder} holds frame images directly; expected '
                         f'one sub-folder per face sequence')
    archives = []
    for path in sorted(glob.glob(osp.join(folder, '*'))):
        stem = _archive_stem(osp.basename(path))
        if stem is not None and osp.isfile(path) and not osp.isdir(
                osp.join(folder, stem)):
            archives.append(osp.basename(path))
    return sorted(seqs), archives


def collect_wdf(root: str, include_train: bool = False
                ) -> Tuple[List[VideoTask], List[str], int]:
    """List the WildDeepfake sequences to convert.

    Args:
        root (str): Folder holding ``real_train``, ``fake_train``,
            ``real_test``, ``fake_test``.
        include_train (bool): Convert the train folders too.
            Defaults to False.

    Returns:
        tuple: ``tasks``, ``missing`` (unextracted archives, as
        ``<split folder>/<archive>``) and ``ignored`` (train sequences left
        out).
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'WildDeepfake root not found: {root}')
    tasks, missing, ignored = [], [], 0
    for name, (label, split) in WDF_FOLDERS.items():
        folder = osp.join(root, name)
        if not osp.isdir(folder):
            if split == 'train' and not include_train:
                continue
            raise FileNotFoundError(
                f'WildDeepfake folder not found: {folder} (expected '
                f'{", ".join(WDF_FOLDERS)} under the root, the published '
                f'archives extracted)')
        seqs, archives = find_wdf_sequences(folder)
        if split == 'train' and not include_train:
            ignored += len(seqs)
            continue
        missing += [f'{name}/{a} (not extracted)' for a in archives]
        for rel in seqs:
            parent, _, seq = rel.rpartition('/')
            tasks.append(VideoTask(
                folder=f'{name}/{parent}' if parent else name, name=seq,
                path=osp.join(folder, *rel.split('/')), label=label,
                method='real' if label == 0 else 'WildDeepfake',
                split=split))
    return tasks, missing, ignored


def convert_wdf(root: str,
                out: str,
                include_train: bool = False,
                faces: str = 'detect',
                margin: Optional[float] = None,
                detector: Optional[dict] = None,
                face_detector=None,
                **options) -> dict:
    """Convert WildDeepfake to face crops and ``test.json`` (plus
    ``train.json`` with ``include_train``) under ``out``.

    Args:
        root (str): WildDeepfake root.
        out (str): Output folder (``data/wdf`` for
            ``configs/_base_/datasets/wdf.py``).
        include_train (bool): Convert the train folders too.
            Defaults to False.
        faces (str): ``'detect'`` (run the face detector) or ``'given'``
            (each frame is the face). Defaults to ``'detect'``.
        margin (float, optional): Crop margin. Defaults to 1.3 with
            ``'detect'`` and 1.0 (the frame as is) with ``'given'``.
        detector (dict, optional): Detector config for ``'detect'``.
            Defaults to :data:`~.engine.DEFAULT_DETECTOR`.
        face_detector (BaseFaceDetector, optional): A ready detector
            (``workers=1``). Defaults to None.
        **options: Sampling and run options (``frames`` per sequence,
            ``workers``, ``shard``, ``real_oversample``, ``size``,
            ``merge``, ``min_faces`` per sequence, ``progress``) of
            :func:`~.engine.run_conversion`.

    Returns:
        dict: The run summary plus ``out_dir``, ``missing``, ``ignored``.
    """
    if faces not in ('detect', 'given'):
        raise ValueError(f"faces must be 'detect' or 'given', got {faces!r}")
    if faces == 'given':
        if detector is not None and detector.get('type') != \
                'WholeFrameDetector':
            raise ValueError("faces='given' takes every frame as the face; "
                             'it uses no face detector')
        detector = dict(type='WholeFrameDetector')
        if face_detector is not None and not isinstance(
                face_detector, WholeFrameDetector):
            face_detector = WholeFrameDetector()
    if margin is None:
        margin = 1.0 if faces == 'given' else 1.3
    tasks, missing, ignored = collect_wdf(root, include_train)
    if not tasks:
        raise FileNotFoundError(f'no WildDeepfake sequence to convert under '
                                f'{root}')
    metainfo = dict(dataset='WildDeepfake', methods=['WildDeepfake'],
                    faces=faces, video_unit='face sequence folder',
                    pairing='none')
    summary = run_conversion(tasks, out, metainfo, missing, margin=margin,
                             detector=detector, face_detector=face_detector,
                             **options)
    summary['ignored'] = ignored
    return summary
