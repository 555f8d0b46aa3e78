# Copyright (c) mmfocus contributors.
"""The modules of GFFD (Luo et al., CVPR 2021, "Generalizing Face Forgery
Detection with High-frequency Features"), used by
:class:`mmfocus.models.classifiers.GFFD`.

* :class:`SRMFeatureBlock`: the multi-scale high-frequency feature
  extraction at feature level (SRM residuals of a low-level RGB feature map,
  projected back to its width);
* :class:`ResidualGuidedSpatialAttention` (RSA): a spatial attention map
  computed from the SRM residuals of the image that re-weights the low-level
  RGB features, ``F' = F * A + F``;
* :class:`DualCrossModalityAttention` (DCMA): each stream attends to the
  other one's positions through one shared correlation matrix;
* :class:`GFFDFusion`: the fusion of the two exit-flow features.

The SRM filters are :func:`mmfocus.models.data_preprocessors.
modality_filters.srm` (the three kernels of Zhou et al., CVPR 2018).
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmfocus.registry import MODELS
from ..data_preprocessors.modality_filters import srm

__all__ = [
    'SRMFeatureBlock', 'ResidualGuidedSpatialAttention',
    'DualCrossModalityAttention', 'GFFDFusion', 'rsa_reweight'
]


def _conv_bn_relu(cin: int, cout: int, k: int = 1, stride: int = 1,
                  padding: int = 0) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, padding, bias=False),
        nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


@MODELS.register_module()
class SRMFeatureBlock(nn.Module):
    """SRM residuals of a feature map, projected: ``ReLU(BN(W [K_k * f_c]))``.

    Each of the three SRM kernels is correlated with every channel
    (``srm(x, reduce='none')``: ``3 C`` maps, reflect borders), the result
    is optionally clipped to ``[-truncate, truncate]`` and a ``1 x 1``
    convolution + BN + ReLU maps it to ``out_channels``.

    Args:
        in_channels (int): ``C``.
        out_channels (int, optional): Defaults to None (``C``).
        truncate (float, optional): Clip of the residuals (the authors
            clip at 3 on the normalised scale). Defaults to 3.0.
    """

    def __init__(self, in_channels: int,
                 out_channels: Optional[int] = None,
                 truncate: Optional[float] = 3.0) -> None:
        super().__init__()
        self.truncate = truncate
        self.proj = _conv_bn_relu(3 * in_channels, out_channels or in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> ``(B, out_channels, H, W)``."""
        return self.proj(srm(x, reduce='none', truncate=self.truncate))


def rsa_reweight(feat: torch.Tensor, att: torch.Tensor,
                 residual: bool = True) -> torch.Tensor:
    """``feat * att + feat`` (or ``feat * att`` without the residual),
    ``att`` ``(B, 1, h, w)`` resized bilinearly to ``feat`` if needed."""
    if att.shape[-2:] != feat.shape[-2:]:
        att = F.interpolate(att, size=feat.shape[-2:], mode='bilinear',
                            align_corners=False)
    out = feat * att
    return out + feat if residual else out


@MODELS.register_module()
class ResidualGuidedSpatialAttention(nn.Module):
    """RSA: a spatial attention map from the image's high-frequency
    residuals re-weights the low-level RGB features.

    The SRM residual ``R`` ``(B, 3, H, W)`` goes through an encoder that
    repeats the Xception stem's geometry (3x3 stride-2 and 3x3 convolutions
    without padding, each + BN + ReLU, widths ``mid_channels``), so the map
    lands on the stem output's grid; a CBAM-style spatial attention (mean
    and max over channels, a ``kernel_size`` convolution, sigmoid) gives
    ``A`` ``(B, 1, h, w)`` in (0, 1); the RGB stem feature becomes
    ``F * A + F`` (:func:`rsa_reweight`), followed by BN + ReLU
    (``post_norm``, as in the authors' released module).

    Args:
        in_channels (int): Channels of ``R``. Defaults to 3.
        mid_channels (Sequence[int]): The two encoder widths.
            Defaults to (32, 64).
        feat_channels (int): Channels of the re-weighted RGB feature (for
            ``post_norm``). Defaults to 64.
        kernel_size (int): Odd size of the attention convolution.
            Defaults to 7.
        residual (bool): ``F * A + F`` (True) or ``F * A``.
            Defaults to True.
        post_norm (bool): BN + ReLU after the re-weighting.
            Defaults to True.
    """

    def __init__(self,
                 in_channels: int = 3,
                 mid_channels: Sequence[int] = (32, 64),
                 feat_channels: int = 64,
                 kernel_size: int = 7,
                 residual: bool = True,
                 post_norm: bool = True) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'RSA kernel_size must be odd, got {kernel_size}')
        m1, m2 = mid_channels
        self.encoder = nn.Sequential(_conv_bn_relu(in_channels, m1, 3, 2),
                                     _conv_bn_relu(m1, m2, 3))
        self.spatial = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2,
                                 bias=False)
        self.residual = residual
        self.post = nn.Sequential(
            nn.BatchNorm2d(feat_channels),
            nn.ReLU(inplace=True)) if post_norm else nn.Identity()

    def attention(self, residual: torch.Tensor) -> torch.Tensor:
        """``A = sigmoid(conv([mean_c E(R), max_c E(R)]))``, shape
        ``(B, 1, h, w)``."""
        e = self.encoder(residual)
        z = torch.cat([e.mean(1, keepdim=True), e.amax(1, keepdim=True)], 1)
        return torch.sigmoid(self.spatial(z))

    def forward(self, residual: torch.Tensor,
                feat: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Re-weight ``feat`` ``(B, C, h, w)`` by the attention of
        ``residual`` ``(B, 3, H, W)``.

        Returns:
            tuple: The re-weighted feature ``(B, C, h, w)`` and ``A``.
        """
        att = self.attention(residual)
        return self.post(rsa_reweight(feat, att, self.residual)), att


@MODELS.register_module()
class DualCrossModalityAttention(nn.Module):
    """DCMA: the RGB and high-frequency streams attend to each other.

    With ``K_r = S(W_r x)`` and ``K_h = S(W_h y)`` (``1 x 1`` key
    convolutions to ``C / ratio`` channels followed by a shared ``1 x 1``
    convolution ``S``), the correlation ``E = K_r^T K_h`` ``(N, N)`` over
    the ``N = h w`` positions gives both directions:

    * ``A_hr = softmax_j(E)``: each RGB position ``i`` over the HF ones,
      ``x' = x + gamma_r * (V_h y) A_hr^T``;
    * ``A_rh = softmax_i(E^T)``: each HF position ``j`` over the RGB ones,
      ``y' = y + gamma_h * (V_r x) A_rh^T``;

    with ``1 x 1`` value convolutions ``V`` and scalars ``gamma`` that
    start at 0 (identity at initialisation). ``num_tokens=N`` adds the
    authors' learned ``N x N`` linear map on each direction's energy before
    the softmax (it fixes the input size, hence off by default).

    Args:
        in_channels (int): ``C`` of both streams.
        ratio (int): Key reduction. Defaults to 8.
        num_tokens (int, optional): ``N`` for the energy projections.
            Defaults to None.
    """

    def __init__(self, in_channels: int, ratio: int = 8,
                 num_tokens: Optional[int] = None) -> None:
        super().__init__()
        key = max(in_channels // ratio, 1)
        self.key_rgb = nn.Conv2d(in_channels, key, 1)
        self.key_hf = nn.Conv2d(in_channels, key, 1)
        self.key_shared = nn.Conv2d(key, key, 1)
        self.value_rgb = nn.Conv2d(in_channels, in_channels, 1)
        self.value_hf = nn.Conv2d(in_channels, in_channels, 1)
        self.gamma_rgb = nn.Parameter(torch.zeros(1))
        self.gamma_hf = nn.Parameter(torch.zeros(1))
        self.num_tokens = num_tokens
        if num_tokens is not None:
            self.proj_rgb = nn.Linear(num_tokens, num_tokens)
            self.proj_hf = nn.Linear(num_tokens, num_tokens)

    def attentions(self, x: torch.Tensor,
                   y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(A_hr, A_rh)``, each ``(B, N, N)`` with rows summing to 1."""
        kr = self.key_shared(self.key_rgb(x)).flatten(2)
        kh = self.key_shared(self.key_hf(y)).flatten(2)
        energy = torch.einsum('bci,bcj->bij', kr, kh)
        e_hr, e_rh = energy, energy.transpose(1, 2)
        if self.num_tokens is not None:
            if energy.shape[-1] != self.num_tokens:
                raise ValueError(f'DCMA built for {self.num_tokens} tokens, '
                                 f'got {energy.shape[-1]}')
            e_hr, e_rh = self.proj_rgb(e_hr), self.proj_hf(e_rh)
        return e_hr.softmax(-1), e_rh.softmax(-1)

    def forward(self, x: torch.Tensor,
                y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``x`` (RGB), ``y`` (HF): two ``(B, C, h, w)`` -> ``(x', y')``."""
        if x.shape != y.shape:
            raise ValueError(f'DCMA needs equal shapes, got {tuple(x.shape)}'
                             f' and {tuple(y.shape)}')
        b, c, h, w = x.shape
        a_hr, a_rh = self.attentions(x, y)
        vh = self.value_hf(y).flatten(2)
        vr = self.value_rgb(x).flatten(2)
        to_x = torch.einsum('bcj,bij->bci', vh, a_hr).reshape(b, c, h, w)
        to_y = torch.einsum('bci,bji->bcj', vr, a_rh).reshape(b, c, h, w)
        return x + self.gamma_rgb * to_x, y + self.gamma_hf * to_y


@MODELS.register_module()
class GFFDFusion(nn.Module):
    """Fusion of the two streams' exit-flow features.

    ``'attention'`` (default, the authors' fusion module): concatenation,
    ``1 x 1`` convolution + BN + ReLU to ``out_channels``, then a channel
    attention (a shared two-layer MLP on the average- and max-pooled
    feature, summed, sigmoid) that scales the channels: ``F * CA(F)``.
    ``'concat'``: the plain concatenation (``2 C`` channels).

    Args:
        in_channels (int): Channels of each stream.
        out_channels (int, optional): Defaults to None (``in_channels``).
        mode (str): ``'attention'`` or ``'concat'``.
            Defaults to 'attention'.
        ratio (int): MLP reduction of the channel attention.
            Defaults to 16.
    """

    def __init__(self, in_channels: int,
                 out_channels: Optional[int] = None,
                 mode: str = 'attention',
                 ratio: int = 16) -> None:
        super().__init__()
        if mode not in ('attention', 'concat'):
            raise ValueError(f"GFFDFusion mode must be 'attention' or "
                             f"'concat', got {mode!r}")
        self.mode = mode
        if mode == 'concat':
            self.out_channels = 2 * in_channels
            return
        out = out_channels or in_channels
        self.out_channels = out
        self.proj = _conv_bn_relu(2 * in_channels, out)
        hidden = max(out // ratio, 1)
        self.mlp = nn.Sequential(nn.Conv2d(out, hidden, 1, bias=False),
                                 nn.ReLU(inplace=True),
                                 nn.Conv2d(hidden, out, 1, bias=False))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Two ``(B, C, h, w)`` -> ``(B, out_channels, h, w)``."""
        f = torch.cat([x, y], 1)
        if self.mode == 'concat':
            return f
        f = self.proj(f)
        ca = self.mlp(f.mean((2, 3), keepdim=True)) + self.mlp(
            f.amax((2, 3), keepdim=True))
        return f * torch.sigmoid(ca)
