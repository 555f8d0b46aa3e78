# Copyright (c) mmfocus contributors.
"""MaDD (Zhao et al., CVPR 2021, "Multi-attentional Deepfake Detection"):
an EfficientNet whose middle stage gives ``M`` attention maps; they pool an
enhanced textural feature of a shallow stage (bilinear attention pooling)
and the last stage's feature, trained with a regional independence loss
and attention-guided data augmentation (AGDA)."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmpretrain.structures import DataSample

from mmfocus.registry import MODELS
from ..utils.build import ModuleOrCfg
from ..utils.labels import gt_labels
from ..necks.madd import (BAP_NORMS, CENTRE_UPDATES, MAP_TYPES, RIA_INPUTS,
                          AttentionModule, TextureEnhancement, _norm,
                          agda_soft_drop, agda_strength,
                          bilinear_attention_pooling, gaussian_kernel,
                          regional_independence_loss)
from .map_supervised import MapSupervisedClassifier, make_classifier


def _stage_channels(backbone: nn.Module) -> Tuple[int, ...]:
    """Channels of the backbone's ``out_indices`` stages: the width of the
    last BatchNorm of each of its ``layers`` (mmpretrain EfficientNet)."""
    if not hasattr(backbone, 'layers') or not hasattr(backbone,
                                                      'out_indices'):
        raise TypeError(f'MaDD cannot infer the stage widths of '
                        f'{type(backbone).__name__}: pass in_channels')
    out = []
    for i in backbone.out_indices:
        bns = [m for m in backbone.layers[i].modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if not bns:
            raise TypeError(f'MaDD cannot infer the width of stage {i}: '
                            f'pass in_channels')
        out.append(bns[-1].num_features)
    return tuple(out)


@MODELS.register_module()
class MaDD(MapSupervisedClassifier):
    """Multi-attentional deepfake detection.

    The backbone (``mmpretrain.EfficientNet``, b4 at 380 px in the paper)
    returns three stages, in this order: a **shallow** one for textures
    (``b2``: ``out_indices`` 2, stride 4, 32 channels for b4), a
    **middle** one for the attention module (``b5``: index 4, stride 16,
    160 channels) and the **last** one for the global feature (index 6,
    the final 1x1 conv, 1792 channels). Data flow:

    1. **Multi-attention module** (:class:`AttentionModule`): 1x1 conv +
       BN + ReLU on the middle stage give ``M`` (4) attention maps ``A``.
    2. **Textural feature enhancement** (:class:`TextureEnhancement`):
       local average pooling of the shallow feature to the attention grid
       ``D``, the residual ``F - up(D)`` and a densely connected block of
       3 layers: the textural feature ``T``.
    3. **BAP** (:func:`bilinear_attention_pooling`): the textural feature
       matrix ``P`` (M x C_T) from ``A`` (resized to ``T``'s grid) and
       ``T``, sign-sqrt + L2 normalised per attention; the **global
       feature** ``G`` is the last stage pooled by the summed attention
       (attention-weighted average).
    4. **Classifier** (the authors' heads, ``mid_channels`` 256):
       ``hswish(L2(hswish(L1(flatten P))))`` and ``hswish(L3(dropout(G)))``
       concatenated, then ``L5(hswish(L4(.)))``; with ``mid_channels=None``
       a dropout + linear layer on ``[flatten P, G]``. In training a whole
       attention is dropped per image with probability
       ``attention_dropout`` (kept ones scaled by ``1 / (1 - p)``) in
       ``P`` and in ``G``'s pooling.
    5. **Regional independence loss** (:func:`regional_independence_loss`,
       ``loss_ria``, weight ``loss_weight``): centres ``c`` (M x N, a
       buffer) of the attention features ``V``, moved at rate ``alpha``
       by the real images; real features are pulled within ``margins[0]``
       of the centres, fake ones pushed beyond ``|margins[1]|``, the
       centres kept ``inter_margin`` apart. ``V`` (``ria_input``):
       ``'pooled'`` (the authors' code) pools ``D``, standardised per
       channel over the grid, by ``A`` (L2 rows); ``'textural'`` is ``P``.
    6. **AGDA** (``agda``, training only, :meth:`augment`): per image one
       attention map is drawn with probability proportional to
       ``sqrt(sum A_m + 1)``, upsampled, divided by its maximum and turned
       into a strength ``s`` (:func:`agda_strength`, threshold and zoom
       drawn per batch from ``agda_threshold`` / ``agda_zoom``); the input
       becomes ``x (1 - s) + blur(x) s`` (:func:`agda_soft_drop`). As the
       authors' code does, a **second forward** of the augmented batch
       adds ``agda_loss_weight x CE`` (``loss_agda``) and a match loss
       (``loss_match``, ``match_loss_weight``): the mean distance between
       the two passes' ``V`` rows of the attentions that were not dropped.

    Loss: ``CE + loss_weight * L_RIA [+ AGDA CE + match]``.

    ``pred_map`` (:meth:`aux_map`, ``map_type``): ``'mean'`` (default) of
    the ``M`` attention maps, each min-max normalised per image, or their
    ``'max'``; upsampled bilinearly to the input, in [0, 1]. The
    attention is trained without maps (:attr:`uses_map_targets` False).

    Interpretations (the paper leaves them open; the authors' released
    code decides where it exists; all switchable): shallow stage ``b2``
    and attention stage ``b5`` of the authors' FF++ run (their default
    shallow stage is ``b1``, ``out_indices`` 1); ``M = 4``; attention
    1x1 conv + BN + ReLU as the paper writes (the code: a 3x3 conv + BN +
    ReLU before, ``attention_extract``; ELU + 1, ``attention_act='elu'``;
    a zeroed border of 2/24, ``attention_border``); the shared textural
    block of the paper (the code's later per-attention block:
    ``texture_mode='per_attention'``) with a 3x3 first convolution and
    ``4 C`` output channels; BAP sign-sqrt + L2 per attention (the code:
    L2 only, ``bap_norm='l2'``); the authors' projection heads
    (``mid_channels``), attention dropout 0.25 and global-feature dropout
    0.5; RIA on the pooled ``D`` with the margins of the authors' FF++
    run (``margins=(0.2, -0.8)``, ``inter_margin=0.8``), ``alpha`` 0.05,
    centres moved by the real images only, ``||V - c||`` the Frobenius
    norm over all attentions; ``loss_weight`` 1.0 (the paper; the code
    uses 0.5); ``alpha`` constant unless ``alpha_decay`` (the code: x 0.9
    per epoch) with ``alpha_decay_interval`` iterations; the AGDA of the
    code (soft drop, Gaussian kernel 11, dilation 2, sigma 7, at half
    resolution, noise 0.1, threshold U(0.4, 0.6), zoom U(3, 5), weights
    1 and 0.1), without the RIA loss / centre update of the second pass;
    bilinear resizing without corner alignment; ImageNet normalisation
    (the weights of the local converters; the authors use AdvProp weights
    with mean = std = 0.5).

    Args:
        backbone (dict | nn.Module): Returns (shallow, middle, last).
        num_classes (int): Defaults to 2.
        in_channels (Sequence[int], optional): Widths of the three stages;
            inferred from an mmpretrain EfficientNet. Defaults to None.
        num_attentions (int): ``M``. Defaults to 4.
        attention_act (str): ``'relu'`` or ``'elu'``. Defaults to 'relu'.
        attention_extract (bool): Defaults to False.
        attention_border (float): Defaults to 0.0.
        texture_mode (str): Defaults to 'shared'.
        texture_layers (int): Defaults to 3.
        texture_channels (int, optional): Defaults to None (``4 C``).
        bap_norm (str): Defaults to 'sqrt-l2'.
        mid_channels (int, optional): Defaults to 256.
        attention_dropout (float): Defaults to 0.25.
        dropout (float): On ``G`` (or on the concatenation without
            ``mid_channels``). Defaults to 0.5.
        loss_weight (float): Of ``L_RIA``; 0 disables it. Defaults to 1.0.
        ria_input (str): ``'pooled'`` or ``'textural'``.
            Defaults to 'pooled'.
        alpha (float): Defaults to 0.05.
        alpha_decay (float): Defaults to 1.0.
        alpha_decay_interval (int): Iterations per decay step; 0 = never.
            Defaults to 0.
        margins (Sequence[float]): Intra margins (real, fake).
            Defaults to (0.2, -0.8).
        inter_margin (float): Defaults to 0.8.
        centre_update (str): ``'real'`` or ``'all'``. Defaults to 'real'.
        agda (bool): Defaults to True.
        agda_loss_weight (float): Defaults to 1.0.
        match_loss_weight (float): Defaults to 0.1.
        agda_kernel_size (int): Defaults to 11.
        agda_dilation (int): Defaults to 2.
        agda_sigma (float): Defaults to 7.0.
        agda_scale_factor (float): Defaults to 0.5.
        agda_threshold (Sequence[float]): Defaults to (0.4, 0.6).
        agda_zoom (Sequence[float]): Defaults to (3.0, 5.0).
        agda_noise_rate (float): Defaults to 0.1.
        map_type (str): ``'mean'`` or ``'max'``. Defaults to 'mean'.
        data_preprocessor (dict, optional): Defaults to ImageNet mean/std,
            BGR -> RGB.
        init_cfg (dict, optional): Defaults to None.
    """

    uses_map_targets = False

    def __init__(self,
                 backbone: ModuleOrCfg,
                 num_classes: int = 2,
                 in_channels: Optional[Sequence[int]] = None,
                 num_attentions: int = 4,
                 attention_act: str = 'relu',
                 attention_extract: bool = False,
                 attention_border: float = 0.0,
                 texture_mode: str = 'shared',
                 texture_layers: int = 3,
                 texture_channels: Optional[int] = None,
                 bap_norm: str = 'sqrt-l2',
                 mid_channels: Optional[int] = 256,
                 attention_dropout: float = 0.25,
                 dropout: float = 0.5,
                 loss_weight: float = 1.0,
                 ria_input: str = 'pooled',
                 alpha: float = 0.05,
                 alpha_decay: float = 1.0,
                 alpha_decay_interval: int = 0,
                 margins: Sequence[float] = (0.2, -0.8),
                 inter_margin: float = 0.8,
                 centre_update: str = 'real',
                 agda: bool = True,
                 agda_loss_weight: float = 1.0,
                 match_loss_weight: float = 0.1,
                 agda_kernel_size: int = 11,
                 agda_dilation: int = 2,
                 agda_sigma: float = 7.0,
                 agda_scale_factor: float = 0.5,
                 agda_threshold: Sequence[float] = (0.4, 0.6),
                 agda_zoom: Sequence[float] = (3.0, 5.0),
                 agda_noise_rate: float = 0.1,
                 map_type: str = 'mean',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, num_classes=num_classes,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        for name, value, options in (
            ('bap_norm', bap_norm, BAP_NORMS),
            ('ria_input', ria_input, RIA_INPUTS),
            ('centre_update', centre_update, CENTRE_UPDATES),
            ('map_type', map_type, MAP_TYPES)):
            if value not in options:
                raise ValueError(f'{name} must be one of {options}, got '
                                 f'{value!r}')
        if num_attentions < 1:
            raise ValueError(f'num_attentions must be >= 1, got '
                             f'{num_attentions}')
        if len(margins) != num_classes:
            raise ValueError(f'margins takes one value per class '
                             f'({num_classes}), got {tuple(margins)}')
        if alpha <= 0:
            raise ValueError(f'alpha must be > 0, got {alpha}')
        if not 0 <= attention_dropout < 1:
            raise ValueError(f'attention_dropout must lie in [0, 1), got '
                             f'{attention_dropout}')
        if agda_kernel_size % 2 != 1:
            raise ValueError(f'agda_kernel_size must be odd, got '
                             f'{agda_kernel_size}')
        chans = tuple(in_channels) if in_channels is not None else \
            _stage_channels(self.backbone)
        if len(chans) != 3:
            raise ValueError(f'MaDD needs three backbone stages (shallow, '
                             f'middle, last), got {len(chans)}')
        c_tex, c_att, c_fin = chans
        self.in_channels = chans
        M = self.num_attentions = int(num_attentions)
        self.attentions = AttentionModule(c_att, M, attention_act,
                                          attention_extract,
                                          attention_border)
        self.texture = TextureEnhancement(c_tex, texture_channels,
                                          texture_layers, texture_mode, M)
        c_t = self.texture.out_channels
        self.bap_norm = bap_norm
        self.attention_dropout = float(attention_dropout)
        self.mid_channels = mid_channels
        if mid_channels:
            self.project_local = nn.Sequential(
                nn.Linear(M * c_t, mid_channels), nn.Hardswish(),
                nn.Linear(mid_channels, mid_channels))
            self.dropout = nn.Dropout(dropout) if dropout > 0 \
                else nn.Identity()
            self.project_global = nn.Linear(c_fin, mid_channels)
            self.fc = nn.Sequential(
                nn.Linear(2 * mid_channels, mid_channels), nn.Hardswish(),
                nn.Linear(mid_channels, num_classes))
            self.feat_channels = 2 * mid_channels
        else:
            self.project_local = self.project_global = None
            self.feat_channels = M * c_t + c_fin
            self.dropout, self.fc = make_classifier(self.feat_channels,
                                                    num_classes, dropout)
        self.loss_weight = float(loss_weight)
        self.ria_input = ria_input
        ria_dim = c_tex if ria_input == 'pooled' else c_t
        self.register_buffer('feature_centres', torch.zeros(M, ria_dim))
        self.alpha = float(alpha)
        self.alpha_decay = float(alpha_decay)
        self.alpha_decay_interval = int(alpha_decay_interval)
        self.margins = tuple(float(m) for m in margins)
        self.inter_margin = float(inter_margin)
        self.centre_update = centre_update
        self.agda = agda
        self.agda_loss_weight = float(agda_loss_weight)
        self.match_loss_weight = float(match_loss_weight)
        self.agda_dilation = int(agda_dilation)
        self.agda_scale_factor = float(agda_scale_factor)
        self.agda_threshold = tuple(float(v) for v in agda_threshold)
        self.agda_zoom = tuple(float(v) for v in agda_zoom)
        self.agda_noise_rate = float(agda_noise_rate)
        self.register_buffer('agda_kernel',
                             gaussian_kernel(agda_kernel_size, agda_sigma),
                             persistent=False)
        self.map_type = map_type
        self.register_buffer('num_iters', torch.zeros((), dtype=torch.long))

    @property
    def with_aux(self) -> bool:
        return True

    @property
    def current_alpha(self) -> float:
        """``alpha * alpha_decay ** (num_iters // alpha_decay_interval)``."""
        if self.alpha_decay_interval <= 0:
            return self.alpha
        steps = int(self.num_iters) // self.alpha_decay_interval
        return self.alpha * self.alpha_decay ** steps

    def _drop_mask(self, B: int, device) -> Optional[torch.Tensor]:
        """(B, M, 1) attention dropout mask in training, else None."""
        p = self.attention_dropout
        if not self.training or p <= 0:
            return None
        keep = torch.rand(B, self.num_attentions, 1, device=device) >= p
        return keep.float() / (1 - p)

    def _forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, dict]:
        shallow, middle, last = self.extract_feat(inputs)[-3:]
        att = self.attentions(middle).float()
        tex, d = self.texture(shallow, att)
        P_full = P = bilinear_attention_pooling(tex, att, self.bap_norm)
        mask = self._drop_mask(P.shape[0], P.device)
        pooled_att = att
        if mask is not None:
            P = P * mask
            pooled_att = att * mask.unsqueeze(-1)
        G = bilinear_attention_pooling(last, pooled_att.sum(1, keepdim=True),
                                       'mean')[:, 0]
        if self.project_local is not None:
            local = F.hardswish(self.project_local(P.flatten(1)))
            glob = F.hardswish(self.project_global(self.dropout(G)))
            feat = torch.cat([local, glob], dim=1)
        else:
            feat = self.dropout(torch.cat([P.flatten(1), G], dim=1))
        if self.ria_input == 'pooled':
            d = d.float()
            d = d - d.mean((2, 3), keepdim=True)
            d = d / (d.std((2, 3), keepdim=True) + 1e-8) \
                if d.shape[-1] * d.shape[-2] > 1 else d
            V = bilinear_attention_pooling(d, att, 'l2')
        else:
            V = P_full
        return feat, dict(attn=att, ria_feats=V)

    def extract_pre_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The classifier input (B, feat_channels)."""
        return self._forward(inputs)[0]

    def _heads(self, inputs: torch.Tensor):
        feat, aux = self._forward(inputs)
        return self.fc(feat), aux

    def aux_loss(self, aux: dict, maps: Optional[torch.Tensor],
                 labels: torch.Tensor) -> dict:
        """``loss_ria`` (weighted) and its two terms (unweighted, logged as
        ``ria_intra`` / ``ria_inter``); moves the centres in training."""
        V = aux['ria_feats']
        if self.loss_weight <= 0:
            return dict(loss_ria=V.sum() * 0)
        alpha = self.current_alpha
        intra, inter, centres = regional_independence_loss(
            V, self.feature_centres, labels, alpha, self.margins,
            self.inter_margin, self.centre_update)
        if self.training:
            with torch.no_grad():
                new = centres.detach().clone()
                all_reduce(new, op='mean')
                self.feature_centres.copy_(new)
        return dict(loss_ria=self.loss_weight * (intra + inter),
                    ria_intra=intra.detach(), ria_inter=inter.detach())

    @torch.no_grad()
    def augment(self, inputs: torch.Tensor, attn: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """AGDA soft attention dropping of a batch.

        Args:
            inputs (Tensor): (B, 3, H, W) normalised images.
            attn (Tensor): (B, M, h, w) attention maps.

        Returns:
            tuple: the augmented batch, the drawn attention per image (B, )
            and the drop strength (B, 1, H, W) in [0, 1].
        """
        attn = attn.detach().float().clamp_min(0)
        B, M = attn.shape[:2]
        weights = torch.sqrt(attn.sum((2, 3)) + 1)
        index = torch.multinomial(weights, 1).view(-1)
        a = attn[torch.arange(B, device=attn.device), index].unsqueeze(1)
        a = F.interpolate(a, size=inputs.shape[-2:], mode='bilinear',
                          align_corners=False).clamp_min(0)
        a = a / (a.flatten(1).max(1)[0].view(-1, 1, 1, 1) + 1e-8)
        lo, hi = self.agda_threshold
        zlo, zhi = self.agda_zoom
        u = torch.rand(2).tolist()
        t, z = lo + (hi - lo) * u[0], zlo + (zhi - zlo) * u[1]
        s = agda_strength(a, t, z).clamp(0, 1)
        out = agda_soft_drop(inputs, s, self.agda_kernel, self.agda_dilation,
                             self.agda_scale_factor, self.agda_noise_rate)
        return out, index, s

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """``loss_cls`` (CE), ``loss_ria``, in training with AGDA
        ``loss_agda`` and ``loss_match``, and ``acc``; counts the
        iteration in training."""
        logits, aux = self._heads(inputs)
        labels = gt_labels(data_samples, logits.device, type(self).__name__)
        losses = dict(loss_cls=F.cross_entropy(logits.float(), labels))
        losses.update(self.aux_loss(aux, None, labels))
        if self.training and self.agda:
            x_aug, index, _ = self.augment(inputs, aux['attn'])
            logits2, aux2 = self._heads(x_aug)
            losses['loss_agda'] = self.agda_loss_weight * F.cross_entropy(
                logits2.float(), labels)
            keep = 1 - F.one_hot(index, self.num_attentions).float()
            dist = _norm(aux2['ria_feats'] - aux['ria_feats'], -1)
            losses['loss_match'] = self.match_loss_weight * (dist *
                                                             keep).mean()
        with torch.no_grad():
            losses['acc'] = (logits.argmax(-1) == labels).float().mean()
        if self.training:
            self.num_iters += 1
        return losses

    def aux_map(self, aux: dict, size: Sequence[int]) -> torch.Tensor:
        """The attention maps, min-max normalised per image and map,
        combined by ``map_type`` and upsampled bilinearly to ``size``, in
        [0, 1]."""
        a = aux['attn'].detach().float()
        flat = a.flatten(2)
        lo = flat.min(-1)[0][..., None, None]
        hi = flat.max(-1)[0][..., None, None]
        a = (a - lo) / (hi - lo).clamp_min(1e-8)
        m = a.mean(1, keepdim=True) if self.map_type == 'mean' else \
            a.max(1, keepdim=True)[0]
        return F.interpolate(m, size=tuple(size), mode='bilinear',
                             align_corners=False).clamp(0, 1)


__all__ = ['MaDD']
