# Copyright (c) mmfocus contributors.
"""The map sources that run a model: FoCus, -CARP attention, GradCAM and
ScoreCAM (registered in ``MAP_SOURCES``; the comparison sources are in
:mod:`mmfocus.maps.sources`).

Each takes a model object made by :func:`mmfocus.apis.init_model` and BGR
uint8 face crops; maps lie in [0, 1] at the model input size (GradCAM /
ScoreCAM min-max normalised per image by ``pytorch_grad_cam``; FoCus maps as
the model's ``map_norm`` scales them, attention maps min-max per branch on
the token grid) and :meth:`~mmfocus.maps.sources.BaseMapSource.compute`
resizes them bilinearly to the crop size.

Example:
    >>> from mmfocus.apis import init_model
    >>> from mmfocus.maps.sources import build_map_source
    >>> model = init_model('configs/vit/vit-demo_demo-sbi.py', 'vit.pth')
    >>> [m] = build_map_source('gradcam').compute([crop], model=model)
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate

from mmfocus.maps.cam import CAM_METHODS, FAKE_CLASS, cam_batch, vit_backbone
from mmfocus.maps.sources import BaseMapSource
from mmfocus.registry import MAP_SOURCES
from .inference import build_inference_pipeline, inference_model

__all__ = ['preprocess', 'cam_maps', 'pred_maps', 'attention_maps',
           'check_attention_model', 'FoCusMap', 'AttentionMap',
           'GradCAMMap', 'ScoreCAMMap', 'DetectorMap', 'MaDDMap', 'GFFDMap',
           'UIAViTMap', 'FaceXrayMap']


def preprocess(model: nn.Module, imgs: Sequence[np.ndarray]) -> torch.Tensor:
    """BGR uint8 crops -> the normalised ``(B, 3, H, W)`` batch the model
    takes (the config's test pipeline without loading, then the model's
    data preprocessor), on the model's device."""
    pipeline = getattr(model, '_mmfocus_infer_pipeline', None)
    if pipeline is None:
        pipeline = build_inference_pipeline(model)
        model._mmfocus_infer_pipeline = pipeline
    items = [pipeline(dict(img=img, img_shape=img.shape[:2],
                           ori_shape=img.shape[:2], sample_idx=i))
             for i, img in enumerate(imgs)]
    with torch.no_grad():
        data = model.data_preprocessor(pseudo_collate(items), False)
    inputs = data['inputs']
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f'{type(model).__name__}\'s data preprocessor gives '
                        f'{type(inputs).__name__} inputs; GradCAM / ScoreCAM '
                        'need one (B, 3, H, W) tensor')
    return inputs


def cam_maps(model: nn.Module,
             imgs: Sequence[np.ndarray],
             method: str = 'gradcam',
             target_class: int = FAKE_CLASS,
             target_layer: Optional[str] = None,
             batch_size: int = 16,
             score_batch_size: int = 64) -> List[np.ndarray]:
    """GradCAM / ScoreCAM maps of BGR uint8 crops for ``target_class``
    (:func:`mmfocus.maps.cam.cam_batch` on :func:`preprocess`'d batches of
    ``batch_size``), at the model input size."""
    if method not in CAM_METHODS:
        raise ValueError(f'method must be one of {CAM_METHODS}, got '
                         f'{method!r}')
    if batch_size < 1 or score_batch_size < 1:
        raise ValueError('batch sizes must be >= 1')
    vit_backbone(model)
    out: List[np.ndarray] = []
    for start in range(0, len(imgs), batch_size):
        x = preprocess(model, imgs[start:start + batch_size])
        out.extend(cam_batch(model, x, method=method,
                             target_class=target_class,
                             target_layer=target_layer,
                             score_batch_size=score_batch_size))
    return out


def pred_maps(model: nn.Module, imgs: Sequence[np.ndarray],
              batch_size: int = 16,
              field: str = 'pred_map') -> List[np.ndarray]:
    """``pred_map`` (or ``pred_map_fake``) of a FoCus model for each crop
    (model input size), through :func:`mmfocus.apis.inference_model`."""
    out = []
    for ds in inference_model(model, list(imgs), batch_size=batch_size):
        m = ds.get(field)
        m = m.float().numpy() if isinstance(m, torch.Tensor) \
            else np.asarray(m)
        out.append(np.asarray(m, np.float32).squeeze())
    return out


def check_attention_model(model: nn.Module) -> None:
    """Raise ValueError unless ``model`` is the -CARP FoCus."""
    if getattr(model, 'map_source', None) != 'attention':
        raise ValueError(
            'source "attention" needs the -CARP FoCus (map_source='
            "'attention', e.g. configs/focus/vit-s_ffpp-lq_no-carp.py); got "
            f'{type(model).__name__} with map_source='
            f'{getattr(model, "map_source", None)!r}')


def attention_maps(model: nn.Module, imgs: Sequence[np.ndarray],
                   batch_size: int = 16) -> List[np.ndarray]:
    """The -CARP FoCus map (Table VI): each branch's last-block class-token
    self-attention over the patches, mean over heads, min-max normalised
    per image on the token grid, fused across branches like the CAR maps
    (Eq. 5), upsampled bilinearly to the model input.

    It is the ``pred_map`` of a FoCus built with
    ``map_source='attention'`` (``configs/focus/vit-s_ffpp-lq_no-carp.py``);
    any other model is refused (ValueError).
    """
    check_attention_model(model)
    return pred_maps(model, imgs, batch_size)


@MAP_SOURCES.register_module('focus')
class FoCusMap(BaseMapSource):
    """The fused FoCus manipulation map (``pred_map``, Eq. 5; ``field=
    'pred_map_fake'`` gives the Eq. 9 map)."""
    needs_model = True
    model_kind = 'a FoCus model (configs/focus/)'

    def __init__(self, field: str = 'pred_map') -> None:
        if field not in ('pred_map', 'pred_map_fake'):
            raise ValueError(f"field must be 'pred_map' or 'pred_map_fake', "
                             f'got {field!r}')
        self.field = field

    def check_model(self, model) -> None:
        super().check_model(model)
        if not hasattr(model, 'manipulation_maps'):
            raise ValueError(f'source "{self.name}" needs a FoCus model, '
                             f'got {type(model).__name__}')

    def maps(self, imgs, twins=None, model=None, batch_size=16):
        return pred_maps(model, imgs, batch_size, field=self.field)


@MAP_SOURCES.register_module('attention')
class AttentionMap(BaseMapSource):
    """The -CARP FoCus class-token attention (:func:`attention_maps`)."""
    needs_model = True
    model_kind = "the -CARP FoCus (map_source='attention')"

    def check_model(self, model) -> None:
        super().check_model(model)
        check_attention_model(model)

    def maps(self, imgs, twins=None, model=None, batch_size=16):
        return attention_maps(model, imgs, batch_size)


@MAP_SOURCES.register_module('gradcam')
class GradCAMMap(BaseMapSource):
    """GradCAM of the "fake" logit of a ViT detector (:func:`cam_maps`).

    Args:
        target_layer (str, optional): Module whose tokens are explained,
            e.g. ``'backbone.blocks.11.norm1'``. Defaults to None (the last
            block's ``norm1``).
        score_batch_size (int): ScoreCAM's masked images per pass.
            Defaults to 64.
    """
    needs_model = True
    model_kind = 'a ViT classifier (configs/vit/)'
    method = 'gradcam'

    def __init__(self, target_layer: Optional[str] = None,
                 score_batch_size: int = 64) -> None:
        self.target_layer = target_layer
        self.score_batch_size = score_batch_size

    def check_model(self, model) -> None:
        super().check_model(model)
        vit_backbone(model)

    def maps(self, imgs, twins=None, model=None, batch_size=16):
        return cam_maps(model, imgs, method=self.method,
                        target_layer=self.target_layer,
                        batch_size=batch_size,
                        score_batch_size=self.score_batch_size)


@MAP_SOURCES.register_module('scorecam')
class ScoreCAMMap(GradCAMMap):
    """ScoreCAM of the "fake" logit of a ViT detector."""
    method = 'scorecam'


class DetectorMap(BaseMapSource):
    """The ``pred_map`` of a trained detector of one kind (the attention or
    boundary map it predicts), through :func:`pred_maps`.

    Subclasses name the model classes they accept in :attr:`model_types`;
    any other model is refused before work starts.
    """
    needs_model = True
    #: Class names of the models that give this source's maps.
    model_types: Tuple[str, ...] = ()

    def check_model(self, model) -> None:
        super().check_model(model)
        if type(model).__name__ not in self.model_types:
            raise ValueError(
                f'source "{self.name}" needs {self.model_kind}; got '
                f'{type(model).__name__}')

    def maps(self, imgs, twins=None, model=None, batch_size=16):
        return pred_maps(model, imgs, batch_size)


@MAP_SOURCES.register_module('madd')
class MaDDMap(DetectorMap):
    """MaDD's multi-attention maps (their documented combination,
    :meth:`mmfocus.models.MaDD.aux_map`)."""
    model_kind = 'a MaDD model (configs/madd/)'
    model_types = ('MaDD', )


@MAP_SOURCES.register_module('gffd')
class GFFDMap(DetectorMap):
    """GFFD's residual-guided spatial attention
    (:meth:`mmfocus.models.GFFD.aux_map`)."""
    model_kind = 'a GFFD model (configs/gffd/)'
    model_types = ('GFFD', )


@MAP_SOURCES.register_module('uia-vit')
class UIAViTMap(DetectorMap):
    """UIA-ViT's patch-consistency / attention map
    (:meth:`mmfocus.models.UIAViT.aux_map`)."""
    model_kind = 'a UIA-ViT model (configs/uia-vit/)'
    model_types = ('UIAViT', )


@MAP_SOURCES.register_module('face-xray')
class FaceXrayMap(DetectorMap):
    """Face X-ray's predicted blending boundary
    (:meth:`mmfocus.models.FaceXray.aux_map`)."""
    model_kind = 'a Face X-ray model (configs/face-xray/)'
    model_types = ('FaceXray', )
