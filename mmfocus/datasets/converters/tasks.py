# Copyright (c) mmfocus contributors.
"""What a conversion converts: :class:`VideoTask` (one video of a dataset),
:class:`ConvertSettings` (what decides its crops), the split names and the
``--shard`` syntax."""
from dataclasses import asdict, dataclass, field
from typing import Dict, Optional, Tuple

from mmfocus.faces.detectors import DEFAULT_DETECTOR

SPLITS = ('train', 'val', 'test')
# DEFAULT_DETECTOR (imported above, re-exported): mmfocus' one default
# detector, mmfocus.faces.DEFAULT_DETECTOR (dlib HOG on frames downscaled to
# 640 px, 68 landmarks fitted at full resolution), shared with inference.


@dataclass
class VideoTask:
    """One video to convert.

    Args:
        folder (str): Output sub-folder (e.g. ``'real'``, ``'Deepfakes'``);
            ``<folder>/<name>`` is the video id in the annotations, unique
            over the dataset.
        name (str): Video name (file stem).
        path (str): Video file.
        label (int): 0 real, 1 fake.
        method (str): The annotation's ``method`` (``'real'`` for every
            real video, as :class:`FaceForgeryDataset` expects).
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        index_path (str, optional): Video whose frame count sets the
            sampled indices (a fake's real twin, so pairs align). Defaults
            to None (the video itself).
        mask_path (str, optional): Mask video, read at the same indices.
            Defaults to None.
        pair (str, optional): Video id (``folder/name``) of the real twin;
            a fake frame's ``pair_path`` is that video's crop of the same
            frame index. Defaults to None.
        extra (dict): Fields copied into every annotation entry of the
            video (e.g. FF++'s target and source ids). Defaults to {}.
        single_face (bool): Keep the video in the annotation only when the
            detector found exactly one face in every decoded sampled frame
            (DFDC's single-subject test protocol); otherwise it is left out
            and listed under ``not_single_face`` in the report. Applied when
            the annotations are written, so it never forces a video to be
            converted again. Defaults to False.
    """
    folder: str
    name: str
    path: str
    label: int
    method: str
    split: str
    index_path: Optional[str] = None
    mask_path: Optional[str] = None
    pair: Optional[str] = None
    extra: Dict = field(default_factory=dict)
    single_face: bool = False

    @property
    def key(self) -> str:
        """The video id: ``<folder>/<name>``."""
        return f'{self.folder}/{self.name}'


@dataclass
class ConvertSettings:
    """What decides the crops of a video (checked on every resumed run).

    Args:
        frames (int): Frames sampled evenly per video. Defaults to 10.
        margin (float): Crop side relative to the face extent.
            Defaults to 1.3.
        size (int): Crop side in pixels. Defaults to 224.
        mask_thr (int): Mask binarisation threshold (brightest channel
            > thr). Defaults to 16.
        detector (dict): Face detector config
            (:func:`mmfocus.faces.build_face_detector`). Defaults to
            :data:`DEFAULT_DETECTOR`.
        clips (int, optional): Clip mode (``--clips``): clips per video,
            each of ``clip_len`` consecutive frames of one face track with
            one fixed crop (see :mod:`.clips`); ``frames`` is then not used.
            Defaults to None (frame mode).
        clip_len (int, optional): Frames per clip (``--clip-len``), given
            with ``clips``. Defaults to None.
        decoder (str): How frame mode decodes videos (``--decoder``):
            ``'opencv'`` or ``'pyav'``
            (:func:`~mmfocus.datasets.converters.video.read_frames`; the
            same frames). Not a crop setting: left out of
            :meth:`as_dict`, so a resumed run may change it. Clip mode
            reads with OpenCV. Defaults to ``'opencv'``.
        decode_threads (int): ``'pyav'``'s FFmpeg threads per video
            (``--decode-threads``; 0: FFmpeg's choice). Not a crop setting
            either. Defaults to 0.
    """
    frames: int = 10
    margin: float = 1.3
    size: int = 224
    mask_thr: int = 16
    detector: Dict = field(default_factory=lambda: dict(DEFAULT_DETECTOR))
    clips: Optional[int] = None
    clip_len: Optional[int] = None
    decoder: str = 'opencv'
    decode_threads: int = 0

    #: Fields that say how, not what: not in ``settings.json``.
    RUNTIME_FIELDS = ('decoder', 'decode_threads')
    #: Detector config keys of the same kind (where and how many frames per
    #: pass ``TorchRetinaFaceDetector`` runs): not in ``settings.json``.
    RUNTIME_DETECTOR_KEYS = ('device', 'batch_size')

    def __post_init__(self) -> None:
        from .video import DECODERS
        if self.decoder not in DECODERS:
            raise ValueError(f'decoder must be one of {DECODERS}, got '
                             f'{self.decoder!r}')
        if isinstance(self.decode_threads, bool) or \
                int(self.decode_threads) != self.decode_threads or \
                int(self.decode_threads) < 0:
            raise ValueError(f'decode_threads must be an integer >= 0, got '
                             f'{self.decode_threads!r}')
        self.decode_threads = int(self.decode_threads)
        if int(self.frames) <= 0:
            raise ValueError(f'frames must be positive, got {self.frames}')
        if float(self.margin) <= 0:
            raise ValueError(f'margin must be positive, got {self.margin}')
        if int(self.size) < 8:
            raise ValueError(f'size must be >= 8, got {self.size}')
        if not 0 <= int(self.mask_thr) < 255:
            raise ValueError(f'mask_thr must be in [0, 255), got '
                             f'{self.mask_thr}')
        if not isinstance(self.detector, dict) or 'type' not in \
                self.detector:
            raise TypeError(f'detector must be a config dict with a "type", '
                            f'got {self.detector!r}')
        self.frames, self.size = int(self.frames), int(self.size)
        self.margin, self.mask_thr = float(self.margin), int(self.mask_thr)
        if (self.clips is None) != (self.clip_len is None):
            raise ValueError(f'clips and clip_len (--clips K --clip-len T) '
                             f'go together, got clips={self.clips!r}, '
                             f'clip_len={self.clip_len!r}')
        if self.clips is not None:
            for name in ('clips', 'clip_len'):
                value = getattr(self, name)
                if isinstance(value, bool) or int(value) != value or \
                        int(value) < 1:
                    raise ValueError(f'{name} must be a positive integer, '
                                     f'got {value!r}')
            self.clips, self.clip_len = int(self.clips), int(self.clip_len)

    @property
    def clip_mode(self) -> bool:
        """Whether videos are converted to clips (``--clips``)."""
        return self.clips is not None

    def as_dict(self) -> dict:
        """The settings (what ``settings.json`` holds): frame mode without
        the clip keys (as before clip mode existed), clip mode without
        ``frames`` (not used there); never the :attr:`RUNTIME_FIELDS` nor
        the :attr:`RUNTIME_DETECTOR_KEYS`."""
        out = asdict(self)
        for key in self.RUNTIME_FIELDS:
            del out[key]
        out['detector'] = {k: v for k, v in out['detector'].items()
                           if k not in self.RUNTIME_DETECTOR_KEYS}
        if self.clip_mode:
            del out['frames']
        else:
            del out['clips'], out['clip_len']
        return out


def parse_shard(text: Optional[str]) -> Optional[Tuple[int, int]]:
    """Parse ``'i/n'`` (0-based shard ``i`` of ``n``).

    Args:
        text (str, optional): e.g. ``'0/4'``; None means no sharding.

    Returns:
        tuple[int, int] | None: ``(i, n)``.
    """
    if text is None:
        return None
    try:
        i, n = (int(v) for v in str(text).split('/'))
    except ValueError:
        raise ValueError(f'--shard must be "i/n" (0 <= i < n), got '
                         f'{text!r}') from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f'--shard must be "i/n" with 0 <= i < n, got '
                         f'{text!r}')
    return i, n
