# Copyright (c) mmfocus contributors.
"""The reference of the speed benchmark: N plain backbones on one batch.

FoCus is two ViT-S backbones plus small necks, so its cost floor is two
plain DeiT-S; :func:`parse_reference` reads the ``--reference`` spec,
:func:`build_reference` builds :class:`TwoBackboneReference` from it with
random weights (nothing is downloaded).
"""
from typing import Any, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from mmfocus.models.data_preprocessors import FoCusDataPreprocessor

__all__ = [
    'VIT_ALIASES', 'parse_reference', 'build_reference_backbone',
    'TwoBackboneReference', 'build_reference'
]

#: Keys of the ``vit:key=value,...`` reference spec and their timm names.
_VIT_KEYS = dict(dim='embed_dim', depth='depth', heads='num_heads',
                 patch='patch_size', mlp='mlp_ratio')
#: DeiT-S, the defaults of a ``vit:`` spec.
_VIT_DEFAULTS = dict(embed_dim=384, depth=12, num_heads=6, patch_size=16,
                     mlp_ratio=4.)
#: Short reference names; ``vit-test`` is the timm twin of ``FoCusViT``'s
#: ``arch='test'`` with ``patch_size=8`` (the tiny tool-test config).
VIT_ALIASES = {
    'vit-test': 'vit:dim=64,depth=2,heads=2,patch=8,mlp=2',
    'vit-demo': 'vit:dim=192,depth=6,heads=3,patch=8,mlp=4',
}

AmpDtype = Optional[torch.dtype]


def parse_reference(spec: Optional[str]) -> Optional[Tuple[str, Any]]:
    """Parse a ``--reference`` value.

    Args:
        spec (str, optional): ``'none'`` (no reference), a timm model name
            (``'deit_small_patch16_224'``), an alias of :data:`VIT_ALIASES`,
            or ``'vit:dim=D,depth=L,heads=H,patch=P,mlp=R'`` (any key left
            out takes the DeiT-S value) for a timm ``VisionTransformer``.

    Returns:
        tuple | None: ``('timm', name)``, ``('vit', kwargs)`` or None.

    Raises:
        ValueError: a malformed ``vit:`` spec.
        KeyError: an unknown timm model name.
    """
    if spec is None or spec.strip().lower() in ('', 'none'):
        return None
    spec = VIT_ALIASES.get(spec.strip(), spec.strip())
    if spec.startswith('vit:'):
        kwargs = dict(_VIT_DEFAULTS)
        body = spec[4:]
        for item in filter(None, body.split(',')):
            if '=' not in item:
                raise ValueError(f'reference spec {spec!r}: expected key=value'
                                 f', got {item!r}')
            key, value = (s.strip() for s in item.split('=', 1))
            if key not in _VIT_KEYS:
                raise ValueError(f'reference spec {spec!r}: unknown key '
                                 f'{key!r}; use {sorted(_VIT_KEYS)}')
            try:
                kwargs[_VIT_KEYS[key]] = float(value) if key == 'mlp' \
                    else int(value)
            except ValueError:
                raise ValueError(f'reference spec {spec!r}: {key}={value!r} '
                                 'is not a number') from None
        if min(kwargs['embed_dim'], kwargs['depth'], kwargs['num_heads'],
               kwargs['patch_size']) < 1 or kwargs['mlp_ratio'] <= 0:
            raise ValueError(f'reference spec {spec!r}: sizes must be '
                             'positive')
        if kwargs['embed_dim'] % kwargs['num_heads']:
            raise ValueError(f'reference spec {spec!r}: dim must be divisible'
                             ' by heads')
        return 'vit', kwargs
    import timm
    if not timm.is_model(spec):
        raise KeyError(f'unknown timm model {spec!r} for --reference (or '
                       "give 'none', 'vit:dim=..,depth=..,heads=..,patch=..'"
                       f' or one of {sorted(VIT_ALIASES)})')
    return 'timm', spec


def build_reference_backbone(spec: Tuple[str, Any],
                             img_size: Tuple[int, int],
                             num_classes: int = 2,
                             drop_path_rate: float = 0.) -> nn.Module:
    """One reference classifier with random weights (nothing downloaded).

    Args:
        spec (tuple): Output of :func:`parse_reference`.
        img_size (tuple[int, int]): Input ``(H, W)``.
        num_classes (int): Classes of the head. Defaults to 2 (real/fake).
        drop_path_rate (float): Stochastic depth, matched to the model's
            backbone. Defaults to 0.

    Returns:
        nn.Module: A timm model mapping ``(B, 3, H, W)`` to logits.
    """
    kind, value = spec
    if kind == 'vit':
        from timm.models.vision_transformer import VisionTransformer
        return VisionTransformer(img_size=tuple(img_size),
                                 num_classes=num_classes,
                                 drop_path_rate=drop_path_rate,
                                 qkv_bias=True, **value)
    import timm
    kwargs = dict(pretrained=False, num_classes=num_classes,
                  drop_path_rate=drop_path_rate)
    try:
        return timm.create_model(value, img_size=tuple(img_size), **kwargs)
    except TypeError:  # not a model with a fixed input size
        return timm.create_model(value, **kwargs)


class TwoBackboneReference(BaseModel):
    """``n`` independent classifiers on the same RGB batch.

    The cost floor of a multi-branch model: FoCus minus its second modality
    filter, CARP necks, CAR heads and CL neck. Its data preprocessor is the
    RGB part of ``FoCusDataPreprocessor``, so both models go through the
    same cast, stack and normalisation; the loss is the sum of the
    branches' cross-entropies (``loss_0``, ``loss_1``, ...).

    Args:
        backbones (Sequence[nn.Module]): Classifiers ``(B, 3, H, W) ->
            (B, num_classes)``, e.g. two timm DeiT-S.
        mean, std (Sequence[float]): RGB normalisation. Default to ImageNet.
        to_rgb (bool): Input images are BGR. Defaults to True.

    Example:
        >>> from timm.models.vision_transformer import VisionTransformer
        >>> vit = lambda: VisionTransformer(img_size=32, patch_size=8,
        ...     embed_dim=64, depth=1, num_heads=2, num_classes=2)
        >>> ref = TwoBackboneReference([vit(), vit()])
        >>> len(ref(torch.rand(2, 3, 32, 32)))
        2
    """

    def __init__(self,
                 backbones: Sequence[nn.Module],
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True) -> None:
        super().__init__(data_preprocessor=FoCusDataPreprocessor(
            modalities=('rgb', ), mean=mean, std=std, to_rgb=to_rgb))
        if not backbones:
            raise ValueError('TwoBackboneReference needs at least one '
                             'backbone')
        self.backbones = nn.ModuleList(backbones)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        x = inputs['rgb'] if isinstance(inputs, dict) else inputs
        logits = [m(x) for m in self.backbones]
        if mode == 'loss':
            if not data_samples or 'gt_label' not in data_samples[0]:
                raise ValueError('the reference loss needs data samples with '
                                 'gt_label')
            labels = torch.cat([ds.gt_label for ds in data_samples
                                ]).to(x.device)
            return {f'loss_{i}': F.cross_entropy(z.float(), labels)
                    for i, z in enumerate(logits)}
        if mode in ('tensor', 'predict'):
            return logits
        raise RuntimeError(f'Invalid mode "{mode}".')


def build_reference(spec: Optional[Tuple[str, Any]],
                    img_size: Tuple[int, int],
                    num_branches: int = 2,
                    num_classes: int = 2,
                    drop_path_rate: float = 0.,
                    preprocessor: Optional[nn.Module] = None
                    ) -> Optional[TwoBackboneReference]:
    """Build the reference model: ``num_branches`` backbones of ``spec``.

    Args:
        spec (tuple, optional): Output of :func:`parse_reference`; None
            returns None.
        img_size (tuple[int, int]): Input ``(H, W)``.
        num_branches (int): Number of backbones. Defaults to 2.
        num_classes (int): Defaults to 2.
        drop_path_rate (float): Defaults to 0.
        preprocessor (nn.Module, optional): The model's data preprocessor;
            its ``mean``, ``std`` and ``to_rgb`` are copied. Defaults to
            ImageNet statistics and BGR input.

    Returns:
        TwoBackboneReference | None: The reference.
    """
    if spec is None:
        return None
    kw = {}
    if preprocessor is not None:
        for key in ('mean', 'std'):
            value = getattr(preprocessor, key, None)
            if isinstance(value, torch.Tensor) and value.numel() == 3:
                kw[key] = tuple(float(v) for v in value.flatten())
        if hasattr(preprocessor, 'to_rgb'):
            kw['to_rgb'] = bool(preprocessor.to_rgb)
        elif hasattr(preprocessor, '_channel_conversion'):
            kw['to_rgb'] = bool(preprocessor._channel_conversion)
    backbones = [build_reference_backbone(spec, img_size, num_classes,
                                          drop_path_rate)
                 for _ in range(num_branches)]
    return TwoBackboneReference(backbones, **kw)
