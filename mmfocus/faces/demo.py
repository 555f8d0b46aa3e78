# Copyright (c) mmfocus contributors.
"""Build the offline demo dataset: real face crops + self-blended fakes.

Sources (``demo/faces``): ``photos/*.jpg`` (each photo is one "video"),
``chips/<identity>/*.jpg`` (each identity is one "video") and, optionally,
``skimage.data.astronaut()``. Faces are found with the dlib HOG detector and
68 landmarks, cropped square (margin 1.3; val/test crops jittered in scale
and position) and resized; every real crop gets two stored self-blended
fakes with their soft masks: one of the whole face (``method='sbi'``) and
one of a single facial region (``method='sbi-<region>'``: eyes, nose, mouth,
a cheek, brows/forehead or a random landmark subset, cycled in a seeded
order so every region type is in every split). The split is by source
photo / chip identity, so no person or photo is in two splits.

The result is *not* FaceForensics++: it is a small, honest stand-in that lets
every tool, config and metric run offline, and whose fakes carry a
ground-truth manipulation map.
"""
import glob
import json
import os
import os.path as osp
import shutil
import tempfile
import zlib
from collections import Counter, OrderedDict
from typing import Dict, List, Optional

import cv2
import numpy as np

from mmfocus.datasets.annotation import dump_annotation
from mmfocus.utils.io import imread_checked
from .align import crop_face
from .detectors import DEFAULT_DETECTOR as _BASE_DETECTOR
from .detectors import BaseFaceDetector, build_face_detector
from .sbi import LOCAL_REGIONS, self_blend

SPLITS = ('train', 'val', 'test')
#: Stored fakes are blended at a ratio >= 0.75, so that the binarised mask
#: (``> 0.5``) of every evaluated fake is not empty (online training fakes
#: keep the SBI ratios, 0.25 included).
STORED_BLEND_RATIOS = (0.75, 1.0, 1.0)
#: Build-time crop jitter of the val/test crops: side scale range and the
#: largest centre shift (fraction of the side), so that the mask position
#: varies and a fixed position prior cannot score well.
CROP_JITTER = dict(scale=(0.9, 1.15), shift=0.06)
SPLIT_RATIOS = dict(train=0.6, val=0.1, test=0.3)
IMG_EXTS = ('.jpg', '.jpeg', '.png')
# mmfocus' default detector (mmfocus.faces.DEFAULT_DETECTOR), with the
# stricter score threshold the shipped demo data were made with.
DEFAULT_DETECTOR = dict(_BASE_DETECTOR, score_thr=0.15)
METAINFO = {
    'classes': ['real', 'fake'],
    'dataset': 'demo-sbi',
    'description': 'real photos + self-blended pseudo-fakes, NOT '
    'FaceForensics++',
}


def _list_images(folder: str) -> List[str]:
    return sorted(
        p for p in glob.glob(osp.join(folder, '*'))
        if osp.isfile(p) and p.lower().endswith(IMG_EXTS))


def collect_sources(src: str, astronaut: bool = True) -> List[dict]:
    """List the source images of a ``demo/faces``-like folder.

    Args:
        src (str): Folder with ``photos/`` and/or ``chips/<identity>/``.
        astronaut (bool): Add ``skimage.data.astronaut()``.
            Defaults to True.

    Returns:
        list[dict]: ``dict(name, video_id, kind, path)`` sorted by name;
        ``path`` is None for the astronaut.
    """
    if not osp.isdir(src):
        raise FileNotFoundError(f'demo face source folder not found: {src}')
    sources = []
    for path in _list_images(osp.join(src, 'photos')):
        stem = osp.splitext(osp.basename(path))[0]
        sources.append(dict(name=stem, video_id=stem, kind='photo',
                            path=path))
    chip_root = osp.join(src, 'chips')
    for ident in sorted(os.listdir(chip_root) if osp.isdir(chip_root)
                        else []):
        for path in _list_images(osp.join(chip_root, ident)):
            stem = osp.splitext(osp.basename(path))[0]
            sources.append(dict(name=f'{ident}_{stem}', video_id=ident,
                                kind='chip', path=path))
    if astronaut:
        sources.append(dict(name='astronaut', video_id='astronaut',
                            kind='photo', path=None))
    if not sources:
        raise FileNotFoundError(f'no images under {src}/photos or '
                                f'{src}/chips/<identity>')
    return sources


def _load(source: dict) -> np.ndarray:
    if source['path'] is None:
        from skimage import data
        return np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    return imread_checked(source['path'], cv2.IMREAD_COLOR)


def split_groups(group_sizes: Dict[str, int], group_kinds: Dict[str, str],
                 seed: int = 0) -> Dict[str, str]:
    """Assign whole groups (photos / identities) to train/val/test.

    Deterministic for a seed: the test split first gets one photo group and
    one chip group, val the group closest in size to its target, train one
    group; the rest go, in a seeded random order, to the split furthest
    below its target (60/10/30 % of faces).

    Args:
        group_sizes (dict[str, int]): Faces per group.
        group_kinds (dict[str, str]): ``'photo'`` or ``'chip'`` per group.
        seed (int): Seed of the order. Defaults to 0.

    Returns:
        dict[str, str]: Split name per group.
    """
    rng = np.random.default_rng(seed)
    names = sorted(group_sizes)
    order = [names[i] for i in rng.permutation(len(names))]
    total = sum(group_sizes.values())
    target = {s: SPLIT_RATIOS[s] * total for s in SPLITS}
    count = {s: 0 for s in SPLITS}
    assign = {}

    def put(name, split):
        assign[name] = split
        count[split] += group_sizes[name]
        order.remove(name)

    for kind in ('photo', 'chip'):
        first = next((g for g in order if group_kinds[g] == kind), None)
        if first is not None:
            put(first, 'test')
    if order:
        put(min(order, key=lambda g: abs(group_sizes[g] - target['val'])),
            'val')
    if order:
        put(order[0], 'train')
    for name in list(order):
        put(name, max(SPLITS, key=lambda s: target[s] - count[s]))
    return assign


def _png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode('.png', img)
    if not ok:  # pragma: no cover
        raise ValueError('cv2 could not encode a PNG')
    return buf.tobytes()


def _face_rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def jittered_crop(img: np.ndarray, landmarks: np.ndarray, margin: float,
                  size: int, rng: np.random.Generator,
                  scale=CROP_JITTER['scale'],
                  shift: float = CROP_JITTER['shift']):
    """:func:`~mmfocus.faces.align.crop_face` with its square scaled by
    ``U(scale)`` and its centre moved by up to ``shift`` of its side.

    Returns:
        tuple: ``(crop, landmarks_in_crop)``.
    """
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    (x1, y1), (x2, y2) = pts.min(0), pts.max(0)
    half = max(x2 - x1, y2 - y1, 1.0) / 2 * rng.uniform(*scale)
    side = 2 * half * margin
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    cx, cy = np.array([cx, cy]) + rng.uniform(-shift, shift, 2) * side
    bbox = np.array([cx - half, cy - half, cx + half, cy + half])
    crop, _, affine = crop_face(img, bbox=bbox, margin=margin, size=size)
    lmk = (pts @ affine[:, :2].T + affine[:, 2]).astype(np.float32)
    return crop, lmk


def build_demo_dataset(src: str = 'demo/faces',
                       out: str = 'data/demo_faces',
                       size: int = 224,
                       seed: int = 0,
                       force: bool = False,
                       margin: float = 1.3,
                       astronaut: bool = True,
                       detector: Optional[dict] = None,
                       verbose: bool = True,
                       jitter: bool = True) -> dict:
    """Detect, crop, split and self-blend the demo faces.

    Writes under ``out``: ``real/<name>.png``, ``fake/<name>.png`` (the
    whole-face self-blend of each real, in every split) and
    ``fake/<name>_<region>.png`` (its local-region self-blend),
    ``mask/<same name>.png`` (8-bit blend masks), ``train.json`` / ``val.json`` / ``test.json`` (mmengine
    ``BaseDataset`` format, paths relative to ``out``) and ``summary.json``.
    The folder is built in a temporary sibling and moved into place, so a
    failed run leaves no partial dataset. Identical inputs give
    byte-identical files.

    Args:
        src (str): Source folder (``photos/``, ``chips/<identity>/``).
            Defaults to ``'demo/faces'``.
        out (str): Output folder. Defaults to ``'data/demo_faces'``.
        size (int): Crop side. Defaults to 224.
        seed (int): Seed of the split and of the fakes. Defaults to 0.
        force (bool): Rebuild when ``out`` exists. Defaults to False.
        margin (float): Crop margin. Defaults to 1.3.
        astronaut (bool): Also use ``skimage.data.astronaut()``.
            Defaults to True.
        detector (dict | BaseFaceDetector, optional): Face detector; must
            give 68 landmarks. Defaults to the dlib HOG detector
            (``upsample=1, max_side=640, score_thr=0.15``).
        verbose (bool): Print the summary. Defaults to True.
        jitter (bool): Jitter the val/test crops (:data:`CROP_JITTER`).
            Defaults to True.

    Returns:
        dict: Summary: faces per split, groups per split, images without a
        face and unreadable images (by name).
    """
    out = osp.abspath(out)
    if osp.exists(out) and not force:
        raise FileExistsError(f'output folder exists: {out} (use --force / '
                              f'force=True to rebuild it)')
    sources = collect_sources(src, astronaut=astronaut)
    det = detector if isinstance(detector, BaseFaceDetector) else \
        build_face_detector(detector or DEFAULT_DETECTOR)

    faces: List[dict] = []
    no_face, unreadable = [], {}
    for source in sources:
        try:
            img = _load(source)
        except (OSError, ValueError) as e:
            unreadable[source['name']] = str(e)
            continue
        found = [f for f in det.detect(img) if f.landmarks is not None
                 and len(f.landmarks) == 68]
        if not found:
            no_face.append(source['name'])
            continue
        found.sort(key=lambda f: (float(f.bbox[0]), float(f.bbox[1])))
        for k, face in enumerate(found):
            faces.append(dict(name=f"{source['name']}_{k:02d}",
                              video_id=source['video_id'],
                              kind=source['kind'], img=img,
                              src_landmarks=face.landmarks))
    if not faces:
        raise RuntimeError(f'no faces found in {src} (images without a '
                           f'face: {no_face}; unreadable: '
                           f'{sorted(unreadable)})')

    sizes: Dict[str, int] = OrderedDict()
    kinds: Dict[str, str] = {}
    for face in faces:
        sizes[face['video_id']] = sizes.get(face['video_id'], 0) + 1
        kinds[face['video_id']] = face['kind']
    assign = split_groups(sizes, kinds, seed=seed)
    # crops: plain for train (jittered online there), jittered for val/test
    for face in faces:
        if assign[face['video_id']] == 'train' or not jitter:
            face['crop'], face['landmarks'], _ = crop_face(
                face['img'], face['src_landmarks'], margin=margin, size=size)
        else:
            face['crop'], face['landmarks'] = jittered_crop(
                face['img'], face['src_landmarks'], margin, size,
                _face_rng(seed + 1, face['name']))
        del face['img']
    # the local region of each face's second fake: a seeded cycle
    order = np.random.default_rng(seed + 2).permutation(len(faces))
    region_of = {faces[i]['name']: LOCAL_REGIONS[j % len(LOCAL_REGIONS)]
                 for j, i in enumerate(order)}

    parent = osp.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.', dir=parent)
    try:
        for sub in ('real', 'fake', 'mask'):
            os.makedirs(osp.join(tmp, sub))
        lists = {s: [] for s in SPLITS}
        frame_idx: Dict[str, int] = {}
        for face in faces:
            name, vid = face['name'], face['video_id']
            idx = frame_idx.get(vid, 0)
            frame_idx[vid] = idx + 1
            lmk = [[round(float(x), 3), round(float(y), 3)]
                   for x, y in face['landmarks']]
            real_path = f'real/{name}.png'
            common = dict(frame_idx=idx, landmarks=lmk)
            entries = [dict(img_path=real_path, gt_label=0, method='real',
                            video_id=vid, mask_path=None, pair_path=None,
                            **common)]
            with open(osp.join(tmp, 'real', f'{name}.png'), 'wb') as f:
                f.write(_png(face['crop']))
            rng = _face_rng(seed, name)
            for region in ('face', region_of[name]):
                fake, mask = self_blend(face['crop'], face['landmarks'], rng,
                                        region=region,
                                        blend_ratios=STORED_BLEND_RATIOS)
                method = 'sbi' if region == 'face' else f'sbi-{region}'
                stem = name if region == 'face' else f'{name}_{region}'
                mask8 = np.clip(np.rint(mask * 255), 0, 255).astype(np.uint8)
                for sub, img in (('fake', fake), ('mask', mask8)):
                    with open(osp.join(tmp, sub, f'{stem}.png'), 'wb') as f:
                        f.write(_png(img))
                # A fake "video" has its own id, as FF++'s manipulated
                # videos do.
                entries.append(dict(
                    img_path=f'fake/{stem}.png', gt_label=1, method=method,
                    region=region, video_id=f'{vid}_{method}',
                    mask_path=f'mask/{stem}.png', pair_path=real_path,
                    **common))
            lists[assign[vid]] += entries
        summary = dict(
            faces={s: len(lists[s]) // 3 for s in SPLITS},
            regions={s: dict(sorted(Counter(
                e['method'] for e in lists[s] if e['gt_label'] == 1).items()))
                for s in SPLITS},
            jitter=CROP_JITTER if jitter else None,
            groups={s: sorted(g for g, a in assign.items() if a == s)
                    for s in SPLITS},
            images=len(sources),
            no_face=no_face,
            unreadable=unreadable,
            size=size, margin=margin, seed=seed)
        for split in SPLITS:
            with open(osp.join(tmp, f'{split}.json'), 'w') as f:
                f.write(dump_annotation(dict(METAINFO, split=split), lists[split]))
        with open(osp.join(tmp, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=1)
            f.write('\n')
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary['out'] = out
    if verbose:
        print(format_summary(summary))
    return summary


def _replace_dir(tmp: str, out: str) -> None:
    """Move the finished folder into place (old one removed after)."""
    old = None
    if osp.exists(out):
        old = tempfile.mkdtemp(prefix=f'.{osp.basename(out)}.old.',
                               dir=osp.dirname(out))
        os.rmdir(old)
        os.rename(out, old)
    os.rename(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def format_summary(summary: dict) -> str:
    """Human-readable summary of :func:`build_demo_dataset`."""
    total = sum(summary['faces'].values())
    lines = [f"demo dataset: {total} real faces (+{2 * total} self-blended "
             f"fakes: whole face and one local region each) from "
             f"{summary['images']} images -> {summary.get('out', '')}"]
    for s in SPLITS:
        n = summary['faces'][s]
        pct = 100.0 * n / total if total else 0.0
        lines.append(f'  {s:5s}: {n:4d} faces ({pct:4.1f}%) from '
                     f"{len(summary['groups'][s])} sources: "
                     f"{', '.join(summary['groups'][s])}")
    if summary.get('regions'):
        counts = Counter()
        for s in SPLITS:
            counts.update(summary['regions'][s])
        lines.append('  fakes by method: ' + ', '.join(
            f'{m} {n}' for m, n in sorted(counts.items())))
    empty = [s for s in SPLITS if not summary['faces'][s]]
    if empty:
        lines.append(f"  WARNING: empty split(s): {', '.join(empty)} "
                     f'(too few source photos / identities)')
    if summary['no_face']:
        lines.append(f"  no face found in {len(summary['no_face'])} "
                     f"image(s): {', '.join(summary['no_face'])}")
    for name, why in sorted(summary['unreadable'].items()):
        lines.append(f'  skipped unreadable image {name}: {why}')
    return '\n'.join(lines)
