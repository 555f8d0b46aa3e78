# Copyright (c) mmfocus contributors.
"""GFFD (Luo et al., CVPR 2021, "Generalizing Face Forgery Detection with
High-frequency Features"): a two-stream Xception on RGB and SRM noise
residuals, with multi-scale high-frequency features, residual guided
spatial attention (RSA) and dual cross-modality attention (DCMA)."""
import copy
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfocus.registry import MODELS
from ..data_preprocessors.modality_filters import srm
from ..necks.gffd import (DualCrossModalityAttention, GFFDFusion,
                          ResidualGuidedSpatialAttention, SRMFeatureBlock)
from ..utils.build import ModuleOrCfg, build_module
from .map_supervised import MapSupervisedClassifier, make_classifier

XCEPTION_PREPROCESSOR = dict(type='ImgDataPreprocessor',
                             mean=(127.5, 127.5, 127.5),
                             std=(127.5, 127.5, 127.5),
                             bgr_to_rgb=True)


@MODELS.register_module()
class GFFD(MapSupervisedClassifier):
    """Two-stream Xception with high-frequency guidance.

    Both streams are :class:`~mmfocus.models.backbones.Xception` backbones
    of the same arch (``backbone``; the high-frequency one is a copy of its
    config, so a ``Pretrained`` ``init_cfg`` initialises both). Data flow:

    1. **High-frequency input**: ``R = srm(x)``, the three SRM kernels
       summed over the colour channels of the normalised input, clipped to
       ``[-srm_truncate, srm_truncate]`` (:func:`~mmfocus.models.
       data_preprocessors.modality_filters.srm`), feeds the HF stream.
    2. **Multi-scale HF features** (``multiscale_srm``): the SRM residuals
       of the RGB stream's two stem outputs (:class:`~mmfocus.models.necks.
       SRMFeatureBlock`) are added to the HF stream's stem outputs of the
       same width, followed by a ReLU.
    3. **RSA**: :class:`~mmfocus.models.necks.
       ResidualGuidedSpatialAttention` computes ``A`` from ``R`` and turns
       the RGB stem output ``F`` into ``F * A + F`` (+ BN + ReLU).
    4. Entry, middle and exit flows run in lockstep; after each block
       named in ``dcma_after`` (1-based block numbers, entry-flow end to
       middle-flow end) a :class:`~mmfocus.models.necks.
       DualCrossModalityAttention` exchanges information between the
       streams. Default ``(3, 7)``: after the entry flow and after the
       4th of the 8 middle blocks.
    5. :class:`~mmfocus.models.necks.GFFDFusion` fuses the two exit
       features; global average pooling, dropout and a linear layer give
       the logits; loss CE.

    ``pred_map`` (:meth:`aux_map`): the RSA attention ``A`` (one RSA
    module, so no combination is needed), upsampled bilinearly to the
    input, in [0, 1]. The attention is trained by the classification loss
    only (:attr:`uses_map_targets` False: no ``gt_mask`` is needed).

    Interpretations (the paper leaves them open; the authors' released
    modules decide where they exist): the SRM of the input is taken on the
    normalised image and clipped at 3; the feature-level SRM sees the RGB
    stem after each of its two convolutions; DCMA without the authors'
    size-specific ``N x N`` energy projection (``dcma_tokens`` adds it);
    CE instead of the authors' AM-softmax.

    Args:
        backbone (dict | nn.Module): An ``Xception`` (``out_indices`` are
            ignored: the stages are driven here).
        num_classes (int): Defaults to 2.
        srm_truncate (float, optional): Clip of the input SRM residuals
            and of the feature-level ones. Defaults to 3.0.
        multiscale_srm (bool): Step 2. Defaults to True.
        rsa (bool): Step 3; without it there is no ``pred_map``.
            Defaults to True.
        rsa_kernel_size (int): Defaults to 7.
        rsa_post_norm (bool): BN + ReLU after the re-weighting.
            Defaults to True.
        dcma_after (Sequence[int]): Block numbers followed by a DCMA.
            Defaults to (3, 7).
        dcma_ratio (int): Key reduction of DCMA. Defaults to 8.
        dcma_tokens (int, optional): Enables DCMA's ``N x N`` energy
            projections for ``N`` positions (361 for 299 px).
            Defaults to None.
        fusion (str): :class:`GFFDFusion` mode, ``'attention'`` or
            ``'concat'``. Defaults to 'attention'.
        dropout (float): Before the classifier. Defaults to 0.0.
        data_preprocessor (dict, optional): Defaults to Xception's
            normalisation (mean = std = 127.5, BGR -> RGB).
        init_cfg (dict, optional): Defaults to None.
    """

    uses_map_targets = False

    def __init__(self,
                 backbone: ModuleOrCfg,
                 num_classes: int = 2,
                 srm_truncate: Optional[float] = 3.0,
                 multiscale_srm: bool = True,
                 rsa: bool = True,
                 rsa_kernel_size: int = 7,
                 rsa_post_norm: bool = True,
                 dcma_after: Sequence[int] = (3, 7),
                 dcma_ratio: int = 8,
                 dcma_tokens: Optional[int] = None,
                 fusion: str = 'attention',
                 dropout: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        hf_cfg = copy.deepcopy(backbone)
        super().__init__(
            backbone,
            num_classes=num_classes,
            data_preprocessor=data_preprocessor
            or dict(XCEPTION_PREPROCESSOR),
            init_cfg=init_cfg)
        self.hf_backbone = build_module(hf_cfg)
        rgb = self.backbone
        for name in ('forward_stem1', 'forward_stem2', 'block',
                     'forward_exit_convs', 'middle_end', 'arch'):
            if not hasattr(rgb, name):
                raise TypeError(f'GFFD needs an Xception backbone, got '
                                f'{type(rgb).__name__}')
        if rgb.conv1.in_channels != 3:
            raise ValueError('GFFD streams take 3 channels (RGB / SRM)')
        self.srm_truncate = srm_truncate
        c1, c2 = rgb.arch['stem_channels']
        width = rgb.arch['entry_channels'][-1]
        self.srm_feats = nn.ModuleList([
            SRMFeatureBlock(c1, truncate=srm_truncate),
            SRMFeatureBlock(c2, truncate=srm_truncate)
        ]) if multiscale_srm else None
        self.rsa = ResidualGuidedSpatialAttention(
            3, (c1, c2), c2, rsa_kernel_size,
            post_norm=rsa_post_norm) if rsa else None
        dcma_after = tuple(int(i) for i in dcma_after)
        for i in dcma_after:
            if not rgb.entry_blocks <= i <= rgb.middle_end:
                raise ValueError(
                    f'GFFD dcma_after {dcma_after}: blocks must lie between '
                    f'the entry-flow end ({rgb.entry_blocks}) and the '
                    f'middle-flow end ({rgb.middle_end})')
        if len(set(dcma_after)) != len(dcma_after):
            raise ValueError(f'GFFD dcma_after repeats a block: {dcma_after}')
        self.dcma_after = dcma_after
        self.dcma = nn.ModuleDict({
            str(i): DualCrossModalityAttention(width, dcma_ratio, dcma_tokens)
            for i in dcma_after
        })
        self.fusion = GFFDFusion(rgb.out_channels, mode=fusion)
        self.dropout, self.fc = make_classifier(self.fusion.out_channels,
                                                num_classes, dropout)

    @property
    def with_aux(self) -> bool:
        return self.rsa is not None

    def high_frequency(self, inputs: torch.Tensor) -> torch.Tensor:
        """The HF stream's input ``R`` ``(B, 3, H, W)``: SRM of ``inputs``
        summed over colours, clipped, computed in float32."""
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            r = srm(inputs.float(), reduce='sum', truncate=self.srm_truncate)
        return r.to(inputs.dtype)

    def two_streams(
        self, inputs: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """The exit-flow features of both streams and the RSA map.

        Returns:
            tuple: RGB ``(B, C, h, w)``, HF ``(B, C, h, w)`` and the RSA
            attention ``(B, 1, h0, w0)`` (None without RSA).
        """
        rgb, hf = self.backbone, self.hf_backbone
        r = self.high_frequency(inputs)
        x, y = rgb.forward_stem1(inputs), hf.forward_stem1(r)
        if self.srm_feats is not None:
            y = F.relu(y + self.srm_feats[0](x))
        x, y = rgb.forward_stem2(x), hf.forward_stem2(y)
        if self.srm_feats is not None:
            y = F.relu(y + self.srm_feats[1](x))
        att = None
        if self.rsa is not None:
            x, att = self.rsa(r, x)
        for i in range(1, rgb.num_blocks + 1):
            x, y = rgb.block(i)(x), hf.block(i)(y)
            if i in self.dcma_after:
                x, y = self.dcma[str(i)](x, y)
        return rgb.forward_exit_convs(x), hf.forward_exit_convs(y), att

    def extract_feat(self, inputs: torch.Tensor) -> tuple:
        """``(fused exit-flow feature, )``, ``(B, C, h, w)``."""
        x, y, _ = self.two_streams(inputs)
        return (self.fusion(x, y), )

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The pooled fused feature ``(B, C)`` (the classifier input)."""
        return self.extract_feat(inputs)[0].float().mean((2, 3))

    def _heads(self, inputs: torch.Tensor):
        x, y, att = self.two_streams(inputs)
        pooled = self.fusion(x, y).float().mean((2, 3))
        return self.fc(self.dropout(pooled)), att

    def aux_loss(self, aux, maps: Optional[torch.Tensor],
                 labels: torch.Tensor) -> dict:
        """None: the RSA attention is learnt through the CE loss only."""
        return {}

    def aux_map(self, aux: torch.Tensor,
                size: Sequence[int]) -> torch.Tensor:
        """The RSA attention upsampled bilinearly to ``size``, in [0, 1]."""
        return F.interpolate(aux.float(), size=tuple(size), mode='bilinear',
                             align_corners=False).clamp(0, 1)
