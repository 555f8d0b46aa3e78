# Copyright (c) mmfocus contributors.
"""What the app's page shows, as JSON: the inferencer's results turned into
display-size images (data URIs) and numbers.

Per face: the aligned crop, its manipulation map and its Eq. 9
fake-evidence map as colour heat-maps of the crop's size; per image: the
image at display size and, per map kind, one transparent layer with every
face's map projected back onto the image (the page stacks it over the image
with an opacity slider and draws the boxes itself). A video adds its
per-frame scores and shows its most fake frame the same way.
"""
from typing import List, Optional, Sequence

import cv2
import numpy as np

from mmfocus.apis.inference import to_bgr_uint8
from mmfocus.utils.video import open_video, read_frames
from mmfocus.visualization.inference_draw import map_windows
from mmfocus.visualization.overlay import colorize_map
from mmfocus.visualization.report.html_parts import data_uri

__all__ = ['MAP_KINDS', 'render_image', 'render_video', 'read_frame']

#: the two maps of a face: key in the inferencer's results -> page label
MAP_KINDS = {'map': 'manipulation map', 'map_fake': 'fake evidence (Eq. 9)'}


#: JPEG quality of the page's images (the transparent layers are PNG)
JPEG_QUALITY = 90


def _uri(img: np.ndarray, ext: str = '.jpg') -> str:
    return data_uri(img, ext, quality=JPEG_QUALITY)


def _display_scale(shape: Sequence[int], max_side: int) -> float:
    return min(1.0, max_side / float(max(shape[:2])))


def _scaled_faces(faces: Sequence[dict], s: float) -> List[dict]:
    """Faces with their image -> crop affine composed with a display scale
    ``s`` (display -> crop), so maps project onto the display image."""
    out = []
    for f in faces:
        g = dict(f)
        A = np.asarray(f['affine'], dtype=np.float64).copy()
        A[:, :2] /= s
        g['affine'] = A
        out.append(g)
    return out


def map_layer(shape: Sequence[int], faces: Sequence[dict],
              map_key: str) -> np.ndarray:
    """A BGRA layer of the image's size: each face's colourised map inside
    its crop square (alpha 255), transparent elsewhere."""
    layer = np.zeros(tuple(shape[:2]) + (4, ), np.uint8)
    for win, color, cover in map_windows(faces, shape[:2], map_key):
        a = cover[..., None]
        roi = layer[win]
        rgb = roi[..., :3].astype(np.float32) * (1 - a) + color * a
        roi[..., :3] = np.clip(rgb + .5, 0, 255).astype(np.uint8)
        roi[..., 3] = np.maximum(roi[..., 3],
                                 np.clip(cover * 255 + .5, 0, 255
                                         ).astype(np.uint8))
    return layer


def _face_entry(img: np.ndarray, f: dict, crop_size: int) -> dict:
    A = np.asarray(f['affine'], dtype=np.float64)
    crop = cv2.warpAffine(img, A, (crop_size, crop_size),
                          flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)
    entry = dict(box=[float(v) for v in f['box']],
                 score=float(f['score']), label=f['label'],
                 det_score=float(f.get('det_score', 0.0)),
                 grey=bool(f.get('grey', False)),
                 crop=_uri(crop))
    for key in MAP_KINDS:
        m = f.get(key)
        entry[key] = None if m is None else _uri(colorize_map(m))
        entry[key + '_mean'] = None if m is None else float(np.mean(m))
    return entry


def render_image(img: np.ndarray, result: dict, crop_size: int,
                 max_side: int = 1280) -> dict:
    """The page's view of one image (or video frame) and its faces.

    Args:
        img (np.ndarray): The BGR uint8 image the faces were found on.
        result (dict): Its result (or a video frame's entry) from
            :class:`~mmfocus.apis.FocusInferencer`, maps kept.
        crop_size (int): The inferencer's crop size.
        max_side (int): Longer side of the display image. Defaults to 1280.

    Returns:
        dict: ``image`` (data URI), ``width``/``height`` (display size),
        ``scale`` (display / original), ``layers`` (map kind -> PNG data
        URI of :func:`map_layer`), ``faces`` (box in display pixels,
        score, label, ``det_score``, ``crop`` and one heat-map per map
        kind), ``rejected_faces`` (display box and reason),
        ``maps_identical`` (the two map kinds are the same maps, as with
        posterior CAR maps).
    """
    s = _display_scale(img.shape, max_side)
    h, w = img.shape[:2]
    dw, dh = max(1, round(w * s)), max(1, round(h * s))
    disp = img if s == 1.0 else cv2.resize(img, (dw, dh),
                                           interpolation=cv2.INTER_AREA)
    faces = [f for f in result.get('faces') or []
             if f.get('score') is not None]
    scaled = _scaled_faces(faces, s)
    # posterior CAR maps (map_norm='posterior'): the manipulation map is
    # the fake class's, i.e. the Eq. 9 map itself
    same = bool(faces) and all(
        f.get('map') is not None and f.get('map_fake') is not None and
        np.array_equal(f['map'], f['map_fake']) for f in faces)
    out = dict(image=_uri(disp), width=dw, height=dh, scale=s,
               layers={}, faces=[], rejected_faces=[], maps_identical=same)
    for key in MAP_KINDS:
        out['layers'][key] = _uri(map_layer(disp.shape, scaled, key),
                                  '.png') if faces else None
    for f in faces:
        e = _face_entry(img, f, crop_size)
        e['box'] = [v * s for v in e['box']]
        out['faces'].append(e)
    for r in result.get('rejected_faces') or []:
        out['rejected_faces'].append(dict(
            box=[float(v) * s for v in r['box']], reason=r['reason']))
    return out


def read_frame(path: str, frame_idx: int) -> Optional[np.ndarray]:
    """Frame ``frame_idx`` of a video (decoded in order, as the inferencer
    read it), or None when the video ends before it."""
    cap, _, _ = open_video(path)
    try:
        for idx, frame in read_frames(cap, 1, frame_idx + 1):
            if idx == frame_idx:
                return to_bgr_uint8(frame, name=f'{path} frame {idx}')
    finally:
        cap.release()
    return None


def render_video(path: str, result: dict, crop_size: int,
                 max_side: int = 1280) -> dict:
    """The page's view of a video: per-frame scores (time in seconds) and
    its most fake frame as :func:`render_image` shows an image."""
    fps = float(result.get('fps') or 25.0)
    frames = [dict(frame_idx=int(fr['frame_idx']),
                   t=int(fr['frame_idx']) / fps,
                   score=None if fr.get('score') is None
                   else float(fr['score']))
              for fr in result.get('frames') or []]
    out = dict(frames=frames, fps=fps, num_frames=result.get('num_frames'),
               num_frames_without_face=result.get('num_frames_without_face'),
               top_frame=None)
    scored = [fr for fr in result.get('frames') or []
              if fr.get('score') is not None]
    if scored:
        top = max(scored, key=lambda fr: fr['score'])
        img = read_frame(path, int(top['frame_idx']))
        if img is not None:
            view = render_image(img, top, crop_size, max_side)
            view['frame_idx'] = int(top['frame_idx'])
            view['t'] = int(top['frame_idx']) / fps
            out['top_frame'] = view
    return out
