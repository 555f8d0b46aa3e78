# Copyright (c) mmfocus contributors.
"""FaceForensics++ in its published layout -> face crops + annotations.

Layout (as written by the FF++ download script)::

    <root>/original_sequences/youtube/<comp>/videos/XXX.mp4
    <root>/manipulated_sequences/<method>/<comp>/videos/XXX_YYY.mp4
    <root>/manipulated_sequences/<method>/masks/videos/XXX_YYY.mp4  (optional)

with ``<comp>`` one of ``raw`` (c0), ``c23`` (HQ), ``c40`` (LQ).

Naming convention: ``XXX_YYY`` is the *target* video ``XXX`` manipulated
with the *source* video ``YYY``: its frames are ``XXX``'s frames (scene,
background, head pose, length) with the face identity (Deepfakes, FaceSwap,
FaceShifter) or the facial expression (Face2Face, NeuralTextures) driven by
``YYY``. So frame ``i`` of ``XXX_YYY`` shows the same instant as frame ``i``
of ``XXX``: the real twin of a fake frame is the target's frame, which is
what ``pair_path`` points to; fakes are sampled at the indices of their
target so the twins exist.

Splits: the official ``{train,val,test}.json`` (shipped in
``mmfocus/datasets/splits/ffpp``) are lists of ``[a, b]`` id pairs (360 / 70
/ 70); a pair puts the originals ``a`` and ``b`` and the fakes ``a_b`` and
``b_a`` of every method in that split (720 / 140 / 140 videos per class and
method).
"""
import glob
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmfocus.utils.io import load_json
from .engine import SPLITS, VideoTask, run_conversion

FFPP_METHODS = ('Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures')
COMPRESSIONS = ('raw', 'c23', 'c40')
DEFAULT_SPLIT_DIR = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'splits', 'ffpp')


def load_ffpp_splits(split_dir: Optional[str] = None
                     ) -> Dict[str, List[Tuple[str, str]]]:
    """Read the official split files (lists of ``[target, source]`` pairs).

    Args:
        split_dir (str, optional): Folder with ``train.json``,
            ``val.json``, ``test.json``. Defaults to the copy shipped with
            mmfocus (:data:`DEFAULT_SPLIT_DIR`).

    Returns:
        dict[str, list[tuple[str, str]]]: Pairs per split.
    """
    split_dir = split_dir or DEFAULT_SPLIT_DIR
    pairs: Dict[str, List[Tuple[str, str]]] = {}
    seen: Dict[str, str] = {}
    for split in SPLITS:
        path = osp.join(split_dir, f'{split}.json')
        raw = load_json(path, 'FF++ split file')
        if not isinstance(raw, list):
            raise ValueError(f'{path}: expected a list of [id, id] pairs')
        pairs[split] = []
        for item in raw:
            if not (isinstance(item, (list, tuple)) and len(item) == 2
                    and all(isinstance(v, (str, int)) for v in item)):
                raise ValueError(f'{path}: expected [id, id] pairs, got '
                                 f'{item!r}')
            a, b = (str(v) for v in item)
            for vid in (a, b):
                if seen.get(vid, split) != split:
                    raise ValueError(f'{path}: video {vid} is also in the '
                                     f'{seen[vid]} split')
                seen[vid] = split
            pairs[split].append((a, b))
    return pairs


def _videos(folder: str) -> Dict[str, str]:
    return {
        osp.splitext(osp.basename(p))[0]: p
        for p in sorted(glob.glob(osp.join(folder, '*.mp4')))
    }


def collect_ffpp(root: str,
                 compression: str = 'c23',
                 methods: Sequence[str] = FFPP_METHODS,
                 split_dir: Optional[str] = None
                 ) -> Tuple[List[VideoTask], List[str], Dict[str, int]]:
    """List the FF++ videos of the official splits.

    Args:
        root (str): FF++ root (holds ``original_sequences/``,
            ``manipulated_sequences/``).
        compression (str): ``'raw'``, ``'c23'`` or ``'c40'``.
            Defaults to ``'c23'``.
        methods (Sequence[str]): Manipulation folders. Defaults to the four
            of the paper (:data:`FFPP_METHODS`); ``FaceShifter`` works too.
        split_dir (str, optional): Split files. Defaults to the shipped
            official ones.

    Returns:
        tuple: ``tasks`` (reals first, then each method; sorted by id),
        ``missing`` (video ids of the splits absent from the download) and
        ``ignored`` (count of ``.mp4`` files outside the splits per folder).
    """
    if compression not in COMPRESSIONS:
        raise ValueError(f'compression must be one of {COMPRESSIONS}, got '
                         f'{compression!r}')
    if not methods:
        raise ValueError('no manipulation method selected')
    if 'DeepFakeDetection' in methods:
        raise ValueError('DeepFakeDetection (actors) has another layout and '
                         'no official split; it is not supported here')
    if len(set(methods)) != len(methods):
        raise ValueError(f'duplicate methods: {list(methods)}')
    if not osp.isdir(root):
        raise FileNotFoundError(f'FF++ root not found: {root}')
    pairs = load_ffpp_splits(split_dir)
    real_dir = osp.join(root, 'original_sequences', 'youtube', compression,
                        'videos')
    if not osp.isdir(real_dir):
        raise FileNotFoundError(
            f'FF++ original videos not found: {real_dir} (expected '
            f'<root>/original_sequences/youtube/{compression}/videos/*.mp4)')
    reals = _videos(real_dir)
    real_split = {v: s for s in SPLITS for pair in pairs[s] for v in pair}
    tasks: List[VideoTask] = []
    missing: List[str] = []
    ignored: Dict[str, int] = {}
    for vid in sorted(real_split):
        if vid in reals:
            tasks.append(VideoTask(folder='real', name=vid,
                                   path=reals[vid], label=0, method='real',
                                   split=real_split[vid]))
        else:
            missing.append(f'real/{vid}')
    ignored['real'] = len(set(reals) - set(real_split))
    fake_split = {}  # name -> (split, target, source)
    for s in SPLITS:
        for a, b in pairs[s]:
            fake_split[f'{a}_{b}'] = (s, a, b)
            fake_split[f'{b}_{a}'] = (s, b, a)
    for method in methods:
        mdir = osp.join(root, 'manipulated_sequences', method)
        vdir = osp.join(mdir, compression, 'videos')
        if not osp.isdir(vdir):
            raise FileNotFoundError(
                f'FF++ {method} videos not found: {vdir} (download them or '
                f'leave {method} out of --methods)')
        fakes = _videos(vdir)
        mask_dir = osp.join(mdir, 'masks', 'videos')
        masks = _videos(mask_dir) if osp.isdir(mask_dir) else {}
        for name in sorted(fake_split):
            if name not in fakes:
                missing.append(f'{method}/{name}')
                continue
            split, target, source = fake_split[name]
            tasks.append(VideoTask(
                folder=method, name=name, path=fakes[name], label=1,
                method=method, split=split,
                index_path=reals.get(target), mask_path=masks.get(name),
                pair=f'real/{target}' if target in reals else None,
                extra=dict(target=target, source=source)))
        ignored[method] = len(set(fakes) - set(fake_split))
    return tasks, missing, ignored


def convert_ffpp(root: str,
                 out: str,
                 compression: str = 'c23',
                 methods: Sequence[str] = FFPP_METHODS,
                 split_dir: Optional[str] = None,
                 **options) -> dict:
    """Convert FF++ videos to face crops and ``{train,val,test}.json``.

    The output goes to ``<out>/<compression>/`` (``--out data/ffpp`` gives
    ``data/ffpp/c40/train.json``, what ``configs/_base_/datasets/ffpp-c40.py``
    reads). See :func:`~.engine.convert_videos` for resuming, sharding and
    the report.

    Args:
        root (str): FF++ root.
        out (str): Output root.
        compression (str): ``'raw'``, ``'c23'`` or ``'c40'``.
            Defaults to ``'c23'``.
        methods (Sequence[str]): Defaults to :data:`FFPP_METHODS`.
        split_dir (str, optional): Split files. Defaults to the official
            ones shipped with mmfocus.
        **options: Sampling, cropping and run options (``frames``,
            ``workers``, ``shard``, ``real_oversample`` (4 balances the four
            methods), ``margin``, ``size``, ``detector``, ``mask_thr``,
            ``merge``, ``min_faces``, ``progress``, ``face_detector``) of
            :func:`~.engine.run_conversion`.

    Returns:
        dict: The run summary (see :func:`~.engine.convert_videos`) plus
        ``out_dir``, ``missing`` and ``ignored``.
    """
    methods = list(methods)
    tasks, missing, ignored = collect_ffpp(root, compression, methods,
                                           split_dir)
    if not tasks:
        raise FileNotFoundError(f'no FF++ video of the splits found under '
                                f'{root} ({compression})')
    metainfo = dict(
        dataset='FaceForensics++', compression=compression, methods=methods,
        pairing='fake XXX_YYY: target XXX (pair_path = frame of XXX), '
        'source YYY')
    summary = run_conversion(tasks, osp.join(out, compression), metainfo,
                             missing, **options)
    summary['ignored'] = ignored
    return summary
