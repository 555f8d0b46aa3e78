# Copyright (c) mmfocus contributors.
"""Model-level inference: build a FoCus model from a config and checkpoint,
and run it on aligned face crops.

Example:
    >>> from mmfocus.apis import init_model, inference_model
    >>> model = init_model('configs/focus/vit-demo_demo-sbi.py',
    ...                    'checkpoints/focus_vit-demo_demo-sbi.pth')
    >>> [ds] = inference_model(model, ['face_crop.png'])
    >>> fake_prob = float(ds.pred_score[1])
    >>> where = ds.pred_map.numpy()          # (H, W) in [0, 1]
"""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmpretrain.structures import DataSample

from mmfocus.utils.io import imread_checked
from mmfocus.apis.runner import load_config
from mmfocus.registry import MODELS, TRANSFORMS
from mmfocus.utils import register_all_modules
from mmfocus.utils.checkpoint import check_state_dict, load_state_dict_file
from mmfocus.utils.config import merge_cfg_options

ImageLike = Union[str, np.ndarray]

# The loading steps of a test pipeline: inference gets decoded crops.
_LOADING_TRANSFORMS = ('LoadFace', 'LoadManipulationMask',
                       'LoadImageFromFile', 'LoadAnnotations')
# Longer image side above which an image is refused before decoding.
DEFAULT_MAX_IMAGE_SIDE = 8000


class ImageTooLargeError(ValueError):
    """An image whose longer side exceeds the configured limit."""


def to_bgr_uint8(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Convert any decoded image to the ``(H, W, 3)`` BGR uint8 the face
    detectors and the model take.

    Grey ``(H, W)`` / ``(H, W, 1)`` images are replicated to 3 channels,
    an alpha channel (BGRA, grey + alpha) is dropped, 16-bit images are
    scaled by ``1 / 257`` (65535 -> 255), float images are taken as [0, 1]
    when their maximum is at most 1, else as [0, 255], and clipped; bool
    images map to 0 / 255.

    Args:
        img (np.ndarray): A decoded image (cv2 channel order).
        name (str): Used in the error message. Defaults to ``'image'``.

    Returns:
        np.ndarray: A contiguous ``(H, W, 3)`` uint8 BGR image.

    Raises:
        ValueError: empty image, unsupported shape or dtype.
    """
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f'{name}: expected an (H, W) or (H, W, C) image, '
                         f'got shape {img.shape}')
    if img.ndim == 3 and img.shape[2] not in (2, 3, 4):
        raise ValueError(f'{name}: expected 1, 2, 3 or 4 channels, got '
                         f'{img.shape[2]}')
    if img.dtype == np.uint8:
        pass
    elif img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    elif img.dtype == np.uint16:
        img = ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif np.issubdtype(img.dtype, np.floating):
        f = np.nan_to_num(img.astype(np.float32))
        scale = 255. if f.size and f.max() <= 1.0 else 1.0
        img = np.clip(f * scale + .5, 0, 255).astype(np.uint8)
    elif np.issubdtype(img.dtype, np.integer):
        img = np.clip(img, 0, 255).astype(np.uint8)
    else:
        raise ValueError(f'{name}: unsupported image dtype {img.dtype}')
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 2:  # grey + alpha
        img = cv2.cvtColor(np.ascontiguousarray(img[..., 0]),
                           cv2.COLOR_GRAY2BGR)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(img)


def image_size_from_header(path: str) -> Optional[Tuple[int, int]]:
    """``(width, height)`` of an image file read from its header only
    (Pillow, without decoding the pixels); None if Pillow cannot tell."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return None
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # we apply our own limit below
    try:
        with Image.open(path) as im:
            return tuple(int(v) for v in im.size)
    except Exception:  # noqa: BLE001 - not an image Pillow knows
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def read_image(path: str,
               max_side: Optional[int] = DEFAULT_MAX_IMAGE_SIDE
               ) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` BGR uint8, with clear errors.

    EXIF orientation is applied; grey, RGBA and 16-bit files are converted
    by :func:`to_bgr_uint8`. An image whose longer side exceeds
    ``max_side`` is refused from its header, before the pixels are decoded
    (a 20,000 x 20,000 image would need 1.2 GB).

    Args:
        path (str): Image file.
        max_side (int, optional): Longer-side limit in pixels; None for no
            limit. Defaults to 8000.

    Raises:
        FileNotFoundError: no such file.
        ImageTooLargeError: the image is larger than ``max_side``.
        ValueError: the file is empty, not an image, or corrupt.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    if osp.getsize(path) == 0:
        raise ValueError(f'empty (zero-byte) file: {path}')
    size = image_size_from_header(path)
    if max_side and size is not None and max(size) > max_side:
        raise ImageTooLargeError(
            f'image too large: {path} is {size[0]} x {size[1]} px, the '
            f'limit is {max_side} px per side (downscale it, or raise '
            f'max_image_side: --max-image-side of tools/infer.py)')
    try:
        img = imread_checked(path, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    except ValueError:
        raise ValueError(f'not an image or corrupt image file: {path}'
                         ) from None
    if max_side and max(img.shape[:2]) > max_side:
        raise ImageTooLargeError(
            f'image too large: {path} is {img.shape[1]} x {img.shape[0]} px, '
            f'the limit is {max_side} px per side (downscale it, or raise '
            f'max_image_side: --max-image-side of tools/infer.py)')
    return to_bgr_uint8(img, name=path)


def is_grey_image(img: np.ndarray, tol: float = 2.0) -> bool:
    """Whether an image is grey: one channel (``(H, W)``, ``(H, W, 1)``,
    grey + alpha), or three channels that are equal within ``tol`` grey
    levels on average (a grey photo saved as colour, e.g. a JPEG).

    Args:
        img (np.ndarray): A decoded image (any dtype of
            :func:`to_bgr_uint8`; alpha ignored).
        tol (float): Mean absolute difference between channels, in 8-bit
            levels, up to which three channels count as equal.
            Defaults to 2.

    Returns:
        bool: True for a grey image.
    """
    img = np.asarray(img)
    if img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (1, 2)):
        return True
    if img.ndim != 3 or img.shape[2] < 3 or img.size == 0:
        return False
    step = max(1, int(np.ceil(max(img.shape[:2]) / 512)))  # <= 512 px
    c = img[::step, ::step, :3].astype(np.float32)
    if img.dtype == np.uint16:
        c /= 257.
    elif np.issubdtype(img.dtype, np.floating) and c.size and c.max() <= 1:
        c *= 255.
    diff = (np.abs(c[..., 0] - c[..., 1]) + np.abs(c[..., 1] - c[..., 2]))
    return bool(diff.mean() / 2 <= tol)


def _as_config(config: Union[str, Config, dict],
               cfg_options: Optional[Union[dict, Sequence[str]]]) -> Config:
    if isinstance(config, str):
        if isinstance(cfg_options, dict):
            cfg = load_config(config)
            merge_cfg_options(cfg, cfg_options)
            return cfg
        return load_config(config, cfg_options)
    if isinstance(config, dict) and not isinstance(config, Config):
        config = Config(copy.deepcopy(dict(config)))
    if not isinstance(config, Config):
        raise TypeError(f'config must be a file path or a Config, got '
                        f'{type(config).__name__}')
    register_all_modules(init_default_scope=False)
    cfg = copy.deepcopy(config)
    if cfg_options:
        if not isinstance(cfg_options, dict):
            raise TypeError('cfg_options for a Config object must be a dict')
        merge_cfg_options(cfg, cfg_options)
    return cfg


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[Union[dict, Sequence[str]]] = None
               ) -> torch.nn.Module:
    """Build a FoCus model from a config, load a checkpoint, set eval mode.

    Args:
        config (str | Config): Config file path or a loaded Config.
        checkpoint (str, optional): Local checkpoint file; its state dict
            must fit the model exactly (one clear error otherwise). None
            keeps the random initialisation. Defaults to None.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...
            Defaults to ``'cpu'``.
        cfg_options (dict | list[str], optional): Config overrides, checked
            strictly like ``--cfg-options`` (a dict of dotted keys, or
            ``KEY=VALUE`` strings for a config path). Defaults to None.

    Returns:
        nn.Module: The model in eval mode on ``device``, with the config as
        ``model.cfg`` and ``model.dataset_meta`` (class names).

    Raises:
        FileNotFoundError: the config or checkpoint does not exist.
        RuntimeError: the checkpoint does not match the model.
    """
    cfg = _as_config(config, cfg_options)
    if 'model' not in cfg:
        raise KeyError('the config has no "model" section')
    model_cfg = copy.deepcopy(cfg.model)
    backbone = model_cfg.get('backbone')
    if checkpoint is not None and isinstance(backbone, (dict, ConfigDict)):
        # The checkpoint holds every weight: never read backbone init files.
        if 'pretrained' in backbone:
            backbone['pretrained'] = None
        backbone.pop('init_cfg', None)
    state = None
    if checkpoint is not None:
        state = load_state_dict_file(checkpoint)  # clear error before build
    model = MODELS.build(model_cfg)
    if state is not None:
        check_state_dict(model, state, source=f'checkpoint {checkpoint}')
        model.load_state_dict(state, strict=True)
    model.cfg = cfg
    model.dataset_meta = {'classes': ['real', 'fake']}
    model.to(torch.device(device))
    model.eval()
    return model


def config_input_size(cfg) -> Optional[Tuple[int, int]]:
    """The ``ResizeFace`` scale of a config's test pipeline
    (``test_dataloader.dataset.pipeline`` or ``test_pipeline``), or None."""
    if cfg is None:
        return None
    steps = (cfg.get('test_dataloader') or {}).get('dataset', {}).get(
        'pipeline') or cfg.get('test_pipeline') or []
    for t in steps:
        if t.get('type') in ('ResizeFace', 'mmfocus.ResizeFace') and \
                t.get('scale') is not None:
            scale = t['scale']
            h, w = (scale, scale) if isinstance(scale, int) else scale
            return int(h), int(w)
    return None


def model_input_size(model: torch.nn.Module) -> Tuple[int, int]:
    """``(H, W)`` the model takes: the first backbone's patch-embed size,
    ``backbone.img_size`` of ``model.cfg``, or else the ``ResizeFace``
    scale of its test pipeline (convolutional detectors: HRNet,
    EfficientNet, ...)."""
    for bb in getattr(model, 'backbones', {}).values():
        pe = getattr(bb, 'patch_embed', None)
        if pe is not None and getattr(pe, 'img_size', None) is not None:
            h, w = pe.img_size
            return int(h), int(w)
    cfg = getattr(model, 'cfg', None)
    size = None
    if cfg is not None:
        size = cfg.get('model', {}).get('backbone', {}).get('img_size')
    if size is None:
        size = config_input_size(cfg)
    if size is None:
        raise ValueError('cannot tell the model input size: no patch_embed, '
                         'no model.backbone.img_size and no ResizeFace in '
                         'the test pipeline of model.cfg')
    return (size, size) if isinstance(size, int) else tuple(size)


def build_inference_pipeline(model: torch.nn.Module):
    """The config's test pipeline without its loading steps, resizing to the
    model's input size.

    Uses ``test_dataloader.dataset.pipeline`` (or ``test_pipeline``) of
    ``model.cfg``; drops ``Load*`` transforms; every ``ResizeFace`` is set
    to the model input size (one is added if there is none) and a
    ``PackFaceInputs`` ends the pipeline.

    Returns:
        Compose: Takes ``dict(img=BGR uint8 crop)``.
    """
    from mmcv.transforms import Compose

    h, w = model_input_size(model)
    cfg = getattr(model, 'cfg', None)
    steps = None
    if cfg is not None:
        steps = (cfg.get('test_dataloader') or {}).get('dataset', {}).get(
            'pipeline') or cfg.get('test_pipeline')
    steps = [dict(s) for s in copy.deepcopy(steps or [])]
    steps = [s for s in steps if s.get('type') not in _LOADING_TRANSFORMS]
    resized = False
    for s in steps:
        if s.get('type') == 'ResizeFace':
            s['scale'] = (w, h)
            resized = True
    packs = [i for i, s in enumerate(steps)
             if s.get('type') == 'PackFaceInputs']
    if not packs:
        steps.append(dict(type='PackFaceInputs'))
        packs = [len(steps) - 1]
    if not resized:
        steps.insert(packs[0], dict(type='ResizeFace', scale=(w, h)))
    return Compose([TRANSFORMS.build(s) for s in steps])


def inference_model(model: torch.nn.Module,
                    faces: Union[ImageLike, Sequence[ImageLike]],
                    batch_size: int = 16) -> List[DataSample]:
    """Run FoCus on aligned face crops.

    Args:
        model (nn.Module): From :func:`init_model`.
        faces (str | np.ndarray | Sequence): Face crops (square, aligned as
            in training, e.g. by :func:`mmfocus.faces.crop_face`): BGR uint8
            ``(H, W, 3)`` arrays (grey / BGRA / 16-bit are converted) or
            image paths.
        batch_size (int): Crops per forward pass. Defaults to 16.

    Returns:
        list[DataSample]: One per crop, on the CPU, with ``pred_score``
        (2,) = (real, fake) probabilities, ``pred_label``, ``pred_map`` and
        ``pred_map_fake`` (model input size, values in [0, 1]).
    """
    if isinstance(faces, (str, np.ndarray)):
        faces = [faces]
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    pipeline = getattr(model, '_mmfocus_infer_pipeline', None)
    if pipeline is None:
        pipeline = build_inference_pipeline(model)
        model._mmfocus_infer_pipeline = pipeline
    items = []
    for i, face in enumerate(faces):
        if isinstance(face, str):
            img, path = read_image(face, max_side=None), face
        elif isinstance(face, np.ndarray):
            img, path = to_bgr_uint8(face, name=f'face {i}'), None
        else:
            raise TypeError(f'face {i}: expected a path or an array, got '
                            f'{type(face).__name__}')
        results = dict(img=img, img_shape=img.shape[:2],
                       ori_shape=img.shape[:2], sample_idx=i)
        if path is not None:
            results['img_path'] = path
        items.append(pipeline(results))
    out: List[DataSample] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(items), batch_size):
                data = pseudo_collate(items[start:start + batch_size])
                preds = model.test_step(data)
                out.extend(p.cpu() for p in preds)
    finally:
        model.train(was_training)
    return out
