# Copyright (c) mmfocus contributors.
"""GradCAM and ScoreCAM of a ViT detector (Table VI, "on a trained ViT-S")
on a preprocessed batch; the crop-level map sources that run them (and the
FoCus / -CARP attention maps) are in :mod:`mmfocus.apis.map_sources`.

GradCAM and ScoreCAM come from the maintained ``pytorch_grad_cam`` library
(PyPI ``grad-cam``). A ViT's tokens are turned into a feature map for it by
:func:`vit_reshape_transform` (class token dropped, ``(B, N, D)`` ->
``(B, D, h, w)``); the default target layer is the last block's ``norm1``
(its output feeds the last attention, the only place where the patch tokens
still reach the class token the head reads) and the target is the "fake"
logit (class 1). The library min-max normalises each map on the token
grid, resizes it bilinearly to the model input and min-max normalises it
again there (so it spans [0, 1] per image); callers resize it on to the
crop size.

The ViT detector is any mmengine model with a ``backbone`` that has
``blocks`` and ``grid_size`` (mmfocus' ``FoCusViT``) and that returns class
logits in ``mode='tensor'``: ``configs/vit/*.py`` (mmpretrain's
``ImageClassifier`` with a ``FoCusViT`` backbone and a linear head).

Example:
    >>> from mmfocus.apis import init_model
    >>> from mmfocus.apis.map_sources import cam_maps
    >>> model = init_model('configs/vit/vit-demo_demo-sbi.py', 'vit.pth')
    >>> [m] = cam_maps(model, [face_bgr_uint8], method='gradcam')
    >>> m.shape  # the model input size, values in [0, 1]
    (64, 64)
"""
import contextlib
import io
from typing import Callable, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

CAM_METHODS = ('gradcam', 'scorecam')
FAKE_CLASS = 1


def vit_reshape_transform(grid: Sequence[int]) -> Callable:
    """A ``reshape_transform`` for ``pytorch_grad_cam`` on ViT tokens.

    Args:
        grid (Sequence[int]): The patch grid ``(h, w)``.

    Returns:
        callable: ``(B, P + h*w, D)`` tokens -> ``(B, D, h, w)`` float32
        (``pytorch_grad_cam`` hands the activations and gradients to
        numpy, which has no bfloat16; under autocast they are half
        precision); the ``P`` leading tokens (the class token) are dropped.
    """
    h, w = int(grid[0]), int(grid[1])

    def transform(tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 3 or tokens.shape[1] < h * w:
            raise ValueError(f'expected (B, N, D) tokens with N >= {h * w}, '
                             f'got {tuple(tokens.shape)}')
        patches = tokens[:, tokens.shape[1] - h * w:]
        return patches.reshape(tokens.shape[0], h, w,
                               tokens.shape[2]).permute(0, 3, 1, 2).float()

    return transform


class ClassifierLogits(nn.Module):
    """``x -> logits`` of an mmengine classifier (``mode='tensor'``), the
    plain callable ``pytorch_grad_cam`` expects."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x, mode='tensor')
        if isinstance(out, (tuple, list)):  # e.g. (logits, maps)
            out = out[0]
        if not isinstance(out, torch.Tensor) or out.dim() != 2:
            raise TypeError(f'{type(self.model).__name__}(mode="tensor") did '
                            'not return (B, num_classes) logits')
        return out


def vit_backbone(model: nn.Module) -> nn.Module:
    bb = getattr(model, 'backbone', None)
    if bb is None or not hasattr(bb, 'blocks') or not hasattr(
            bb, 'grid_size'):
        raise ValueError(
            f'GradCAM / ScoreCAM need a ViT classifier (a model whose '
            f'backbone is a FoCusViT, e.g. configs/vit/vit-s_ffpp-c40.py); '
            f'got {type(model).__name__}')
    return bb


def vit_target_layer(model: nn.Module,
                     target_layer: Optional[str] = None) -> nn.Module:
    """The layer whose tokens are explained.

    Args:
        model (nn.Module): The ViT classifier.
        target_layer (str, optional): A module name of ``model``, e.g.
            ``'backbone.blocks.5.norm1'``. Defaults to None: the last
            block's ``norm1``.
    """
    if target_layer is None:
        return vit_backbone(model).blocks[-1].norm1
    try:
        return model.get_submodule(target_layer)
    except AttributeError:
        raise ValueError(f'the model has no module {target_layer!r}'
                         ) from None


def cam_batch(model: nn.Module,
              inputs: torch.Tensor,
              method: str = 'gradcam',
              target_class: int = FAKE_CLASS,
              target_layer: Optional[str] = None,
              score_batch_size: int = 64) -> List[np.ndarray]:
    """GradCAM / ScoreCAM maps of a preprocessed batch for ``target_class``.

    Args:
        model (nn.Module): A ViT classifier (``configs/vit/``).
        inputs (Tensor): ``(B, 3, H, W)`` as the model's data preprocessor
            gives it (:func:`mmfocus.apis.map_sources.preprocess` makes it
            from BGR crops).
        method (str): ``'gradcam'`` or ``'scorecam'``.
        target_class (int): Class explained. Defaults to 1 (fake).
        target_layer (str, optional): See :func:`vit_target_layer`.
        score_batch_size (int): ScoreCAM's masked images per forward pass.
            Defaults to 64.

    Returns:
        list[np.ndarray]: float32 ``(H, W)`` maps at the model input size,
        min-max normalised per image to [0, 1] (all zeros where ReLU left
        nothing).
    """
    from pytorch_grad_cam import GradCAM, ScoreCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    if method not in CAM_METHODS:
        raise ValueError(f'method must be one of {CAM_METHODS}, got '
                         f'{method!r}')
    if score_batch_size < 1:
        raise ValueError('batch sizes must be >= 1')
    layer = vit_target_layer(model, target_layer)
    transform = vit_reshape_transform(vit_backbone(model).grid_size)
    cls = GradCAM if method == 'gradcam' else ScoreCAM
    was_training = model.training
    cam = cls(ClassifierLogits(model), [layer], reshape_transform=transform)
    cam.batch_size = score_batch_size  # ScoreCAM's masked-input batches
    try:
        targets = [ClassifierOutputTarget(target_class)] * len(inputs)
        if method == 'scorecam':
            # ScoreCAM draws a tqdm bar per image; keep the log clean.
            with contextlib.redirect_stderr(io.StringIO()):
                maps = cam(input_tensor=inputs, targets=targets)
        else:
            maps = cam(input_tensor=inputs, targets=targets)
        return [np.clip(np.nan_to_num(m), 0., 1.).astype(np.float32)
                for m in maps]
    finally:
        cam.activations_and_grads.release()
        model.zero_grad(set_to_none=True)
        model.train(was_training)
