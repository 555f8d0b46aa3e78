# Copyright (c) mmfocus contributors.
"""A tiny FaceForensics++ tree in the published layout, written with OpenCV.

Each real video ``XXX`` shows a different real face photo of one identity
(``demo/faces/chips/<identity>``) in every frame, pasted at a frame-specific
position on a frame-specific background, so every frame is distinct. A fake
``XXX_YYY`` is its target ``XXX`` frame by frame with the colour of a face
region (mouth / chin) changed; Deepfakes fakes have a mask video (white
region on black). Frame 3 of ``001`` (and of its fakes) has no face.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CHIPS = osp.join(ROOT, 'demo', 'faces', 'chips')
IDENTITIES = {'000': 'John_Simm', '001': 'John_Savage', '002': 'John_Salley',
              '003': 'John_Schneider', '099': 'John_Shimkus'}
N_FRAMES = 8
SIZE = 128
CHIP = 100
NO_FACE = {'001': 3}  # video -> frame index without a face
# manipulated region, in chip coordinates (rows, cols): mouth and chin
REGION = (slice(58, 92), slice(28, 72))
SPLITS = dict(train=[['000', '001']], val=[['004', '005']],
              test=[['002', '003']])
METHODS = ('Deepfakes', 'Face2Face')
COLOUR = {'Deepfakes': (0, 0, 110), 'Face2Face': (110, 0, 0)}  # BGR shift


def chip_offset(t: int):
    """Top-left corner (x, y) of the face photo in frame t."""
    return 6 + 5 * (t % 4), 8 + 4 * (t % 3)


def region_mask(t: int) -> np.ndarray:
    """The manipulated region of frame t as a boolean (SIZE, SIZE) mask."""
    x, y = chip_offset(t)
    m = np.zeros((SIZE, SIZE), bool)
    rows, cols = REGION
    m[y + rows.start:y + rows.stop, x + cols.start:x + cols.stop] = True
    return m


def real_frames(vid: str):
    chips = sorted(os.listdir(osp.join(CHIPS, IDENTITIES[vid])))
    frames = []
    for t in range(N_FRAMES):
        bg = np.empty((SIZE, SIZE, 3), np.uint8)
        bg[:] = (30 + 20 * t, 80 + 7 * (int(vid) % 10), 150 - 10 * t)
        if NO_FACE.get(vid) != t:
            chip = cv2.imread(osp.join(CHIPS, IDENTITIES[vid],
                                       chips[t % len(chips)]))
            chip = cv2.resize(chip, (CHIP, CHIP), interpolation=cv2.INTER_AREA)
            x, y = chip_offset(t)
            bg[y:y + CHIP, x:x + CHIP] = chip
        frames.append(bg)
    return frames


def fake_frames(target: str, method: str):
    out = []
    shift = np.array(COLOUR[method], np.int16)
    for t, img in enumerate(real_frames(target)):
        img = img.astype(np.int16)
        if NO_FACE.get(target) != t:
            m = region_mask(t)
            img[m] = np.clip(img[m] + shift, 0, 255)
        out.append(img.astype(np.uint8))
    return out


def write_video(path: str, frames) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    h, w = frames[0].shape[:2]
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 8, (w, h))
    assert w.isOpened(), path
    for f in frames:
        w.write(f)
    w.release()


def build_ffpp_tree(root: str, comp: str = 'c23') -> str:
    """Write the fixture tree under ``root``; returns the split folder."""
    orig = osp.join(root, 'original_sequences', 'youtube', comp, 'videos')
    for vid in ('000', '001', '002', '003', '099'):  # 099: not in a split
        write_video(osp.join(orig, f'{vid}.mp4'), real_frames(vid))
    rng = np.random.default_rng(0)
    with open(osp.join(orig, '004.mp4'), 'wb') as f:  # corrupt
        f.write(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    for method in METHODS:
        mdir = osp.join(root, 'manipulated_sequences', method)
        for target, source in (('000', '001'), ('001', '000'),
                               ('002', '003'), ('003', '002')):
            name = f'{target}_{source}'
            write_video(osp.join(mdir, comp, 'videos', f'{name}.mp4'),
                        fake_frames(target, method))
            if method == 'Deepfakes':
                masks = [np.repeat(region_mask(t)[..., None] * np.uint8(255),
                                   3, axis=2) for t in range(N_FRAMES)]
                if target in NO_FACE:
                    masks[NO_FACE[target]][:] = 0
                write_video(osp.join(mdir, 'masks', 'videos', f'{name}.mp4'),
                            masks)
    # a truncated fake: the first half of a valid file
    tmp = osp.join(root, 'full.mp4')
    write_video(tmp, fake_frames('000', 'Deepfakes'))
    with open(tmp, 'rb') as f:
        data = f.read()
    os.remove(tmp)
    path = osp.join(root, 'manipulated_sequences', 'Deepfakes', comp,
                    'videos', '004_005.mp4')
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    split_dir = osp.join(root, 'splits')
    os.makedirs(split_dir)
    for split, pairs in SPLITS.items():
        with open(osp.join(split_dir, f'{split}.json'), 'w') as f:
            json.dump(pairs, f)
    return split_dir


# the converter arguments of every test run
CONVERT_KW = dict(compression='c23', frames=4, methods=METHODS, size=64,
                  real_oversample=2, progress=False)
