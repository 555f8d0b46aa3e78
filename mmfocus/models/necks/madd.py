# Copyright (c) mmfocus contributors.
"""The building blocks of MaDD (Zhao et al., CVPR 2021, "Multi-attentional
Deepfake Detection"): the multi-attention module, the textural feature
enhancement, bilinear attention pooling, the regional independence loss
and the soft attention drop of attention-guided data augmentation (AGDA).
The detector that assembles them is
:class:`mmfocus.models.classifiers.MaDD`."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

ATTENTION_ACTS = ('relu', 'elu')
BAP_NORMS = ('sqrt-l2', 'l2', 'mean', 'none')
TEXTURE_MODES = ('shared', 'per_attention')
RIA_INPUTS = ('pooled', 'textural')
CENTRE_UPDATES = ('real', 'all')
MAP_TYPES = ('mean', 'max')
#: Added under the square root of the sign-sqrt normalisation.
BAP_EPS = 1e-8


def bilinear_attention_pooling(features: torch.Tensor,
                               attentions: torch.Tensor,
                               norm: str = 'sqrt-l2') -> torch.Tensor:
    """Bilinear attention pooling (BAP): the feature matrix ``P``.

    The attentions are resized bilinearly to the feature grid; with ``A_m``
    the ``m``-th map and ``F`` the features, ``P_m = sum_p A_m(p) F(p) /
    (H W)``, then per row (per attention) ``norm``:

    * ``'sqrt-l2'``: ``sign(P) sqrt(|P| + BAP_EPS)``, then L2 normalised;
    * ``'l2'``: L2 normalised (the authors' code);
    * ``'mean'``: ``sum_p A_m(p) F(p) / (sum_p A_m(p) + 1e-8)``, the
      attention-weighted average (the global feature);
    * ``'none'``: ``P`` as is.

    Args:
        features (Tensor): (B, C, H, W), or (B, M, C, H, W) with one map per
            attention.
        attentions (Tensor): (B, M, h, w), non-negative.
        norm (str): Defaults to 'sqrt-l2'.

    Returns:
        Tensor: (B, M, C), float32.
    """
    if norm not in BAP_NORMS:
        raise ValueError(f'norm must be one of {BAP_NORMS}, got {norm!r}')
    H, W = features.shape[-2:]
    a = attentions.float()
    if tuple(a.shape[-2:]) != (H, W):
        a = F.interpolate(a, size=(H, W), mode='bilinear',
                          align_corners=False)
    f = features.float()
    if f.dim() == 4:
        p = torch.einsum('bmhw,bchw->bmc', a, f)
    else:
        p = torch.einsum('bmhw,bmchw->bmc', a, f)
    if norm == 'mean':
        return p / (a.sum((2, 3)).unsqueeze(-1) + 1e-8)
    p = p / (H * W)
    if norm == 'sqrt-l2':
        p = torch.sign(p) * torch.sqrt(p.abs() + BAP_EPS)
    if norm in ('sqrt-l2', 'l2'):
        p = F.normalize(p, p=2, dim=-1)
    return p


def _norm(x: torch.Tensor, dim) -> torch.Tensor:
    """Euclidean norm over ``dim`` with a zero-safe gradient."""
    return torch.sqrt((x * x).sum(dim) + 1e-12)


def regional_independence_loss(
        feats: torch.Tensor, centres: torch.Tensor, labels: torch.Tensor,
        alpha: float, margins: Sequence[float], inter_margin: float,
        update: str = 'real') -> Tuple[torch.Tensor, torch.Tensor,
                                       torch.Tensor]:
    """The regional independence loss and the moved feature centres.

    With ``V_b`` (M x N) the attention features of image ``b``, ``c``
    (M x N) the centres and ``w_b = [y_b = 0]`` (``update='real'``, the
    authors' code) or 1 (``'all'``)::

        c'    = c + alpha / B * sum_b w_b (V_b - c)
        intra = 1 / B * sum_b relu(s_b ||V_b - c'||_F - m_b),
                m_b = margins[y_b], s_b = sign(m_b)
        inter = 1 / (M alpha) * sum_{j < k} relu(inter_margin
                                                 - ||c'_j - c'_k||_2)

    A positive margin pulls the image's features within ``m_b`` of the
    centres, a negative one pushes them at least ``|m_b|`` away (the
    authors' fakes). ``c'`` keeps its gradient (through ``V``).

    Args:
        feats (Tensor): (B, M, N).
        centres (Tensor): (M, N).
        labels (Tensor): (B, ) class indices into ``margins``.
        alpha (float): Centre update rate.
        margins (Sequence[float]): One intra margin per class.
        inter_margin (float): Least distance between two centres.
        update (str): ``'real'`` or ``'all'``. Defaults to 'real'.

    Returns:
        tuple: ``intra`` and ``inter`` (scalars) and ``c'`` (M, N).
    """
    if update not in CENTRE_UPDATES:
        raise ValueError(f'update must be one of {CENTRE_UPDATES}, got '
                         f'{update!r}')
    feats = feats.float()
    B, M, _ = feats.shape
    w = (labels == 0).float() if update == 'real' else \
        torch.ones_like(labels, dtype=torch.float32)
    diff = (feats - centres.float()) * w.view(-1, 1, 1)
    new_centres = centres.float() + alpha * diff.sum(0) / max(B, 1)
    m = torch.as_tensor([float(v) for v in margins],
                        device=feats.device)[labels]
    dist = _norm(feats - new_centres, (1, 2))
    intra = F.relu(torch.sign(m) * dist - m).mean()
    inter = feats.new_zeros(())
    for j in range(M):
        for k in range(j + 1, M):
            inter = inter + F.relu(
                inter_margin - _norm(new_centres[j] - new_centres[k], 0))
    inter = inter / (M * alpha)
    return intra, inter, new_centres


def agda_strength(att: torch.Tensor, threshold: float,
                  zoom: float) -> torch.Tensor:
    """AGDA's soft drop strength from a normalised attention ``a`` in
    [0, 1]: ``(sigmoid(z (a - t)) - sigmoid(-z t)) / (1 - sigmoid(-z t))``
    (exactly 0 where ``a = 0``, increasing in ``a``, clipped to [0, 1])."""
    bottom = 1. / (1. + math.exp(threshold * zoom))
    s = (torch.sigmoid((att - threshold) * zoom) - bottom) / (1 - bottom)
    return torch.where(att > 0, s.clamp(0, 1), torch.zeros_like(s))


def gaussian_kernel(kernel_size: int, sigma: float) -> torch.Tensor:
    """A normalised (k, k) Gaussian."""
    r = torch.arange(kernel_size, dtype=torch.float32) - (kernel_size - 1) / 2
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def agda_soft_drop(x: torch.Tensor, strength: torch.Tensor,
                   kernel: torch.Tensor, dilation: int = 2,
                   scale_factor: float = 0.5,
                   noise_rate: float = 0.1) -> torch.Tensor:
    """``x (1 - s) + blur(x) s``: ``blur`` downsamples by
    ``scale_factor``, applies the (dilated) Gaussian ``kernel`` per channel
    (reflect padding), adds Gaussian noise of std ``noise_rate`` and
    upsamples back (bilinear).

    Args:
        x (Tensor): (B, C, H, W) normalised images.
        strength (Tensor): (B, 1, H, W) in [0, 1].
        kernel (Tensor): (k, k).

    Returns:
        Tensor: (B, C, H, W).
    """
    B, C, H, W = x.shape
    xs = F.interpolate(x, scale_factor=scale_factor, mode='bilinear',
                       align_corners=False) if scale_factor != 1 else x
    k = kernel.shape[-1]
    pad = (k - 1) // 2 * dilation
    mode = 'reflect' if pad < min(xs.shape[-2:]) else 'replicate'
    xs = F.pad(xs, (pad, ) * 4, mode=mode)
    weight = kernel.to(xs).expand(C, 1, k, k)
    xs = F.conv2d(xs, weight, dilation=dilation, groups=C)
    xs = xs + torch.randn_like(xs) * noise_rate
    xs = F.interpolate(xs, size=(H, W), mode='bilinear', align_corners=False)
    s = strength.to(x.dtype)
    return x * (1 - s) + xs * s


def _group_cat(tensors: Sequence[torch.Tensor], groups: int) -> torch.Tensor:
    """Concatenate along channels within each of ``groups`` groups (so that
    a grouped convolution keeps every group's own channels)."""
    B, _, H, W = tensors[0].shape
    return torch.cat([t.reshape(B, groups, -1, H, W) for t in tensors],
                     dim=2).reshape(B, -1, H, W)


class AttentionModule(nn.Module):
    """``M`` attention maps: [3x3 conv + BN + ReLU (``extract``)] + 1x1
    conv + BN + activation (``'relu'``, or ``'elu'``: ELU + 1), with an
    optional zeroed border of ``border`` (a fraction of each side)."""

    def __init__(self, in_channels: int, num_attentions: int,
                 act: str = 'relu', extract: bool = False,
                 border: float = 0.0) -> None:
        super().__init__()
        if act not in ATTENTION_ACTS:
            raise ValueError(f'attention_act must be one of '
                             f'{ATTENTION_ACTS}, got {act!r}')
        self.extract = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 3, padding=1),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True)) if extract else None
        self.conv = nn.Conv2d(in_channels, num_attentions, 1, bias=False)
        self.bn = nn.BatchNorm2d(num_attentions)
        self.act = act
        self.border = float(border)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.extract is not None:
            x = self.extract(x)
        a = self.bn(self.conv(x))
        a = F.relu(a) if self.act == 'relu' else F.elu(a) + 1
        if self.border > 0:
            H, W = a.shape[-2:]
            bh = int(round(H * self.border))
            bw = int(round(W * self.border))
            mask = torch.zeros(H, W, device=a.device, dtype=a.dtype)
            mask[bh:H - bh, bw:W - bw] = 1
            a = a * mask
        return a


class TextureEnhancement(nn.Module):
    """Textural feature enhancement of a shallow feature ``F``.

    ``D = adaptive_avg_pool(F, attention grid)`` (local average pooling),
    the residual ``F - up(D)`` (nearest; ``F`` itself when it is not
    larger than the grid), then a densely connected block: ``y_0 =
    conv3x3(residual)``, ``y_i = conv3x3(ReLU(BN([y_0 .. y_{i-1}])))`` for
    ``i = 1 .. num_layers`` and ``T = ReLU(BN(conv1x1(ReLU(BN([y_0 ..
    y_L])))))``.

    ``mode='per_attention'`` (the authors' later code) multiplies the
    residual by ``tanh`` of each (detached, upsampled) attention map and
    runs the block once per attention (grouped convolutions): ``T`` is
    then (B, M, C_out, H, W).

    Args:
        in_channels (int): Channels of ``F``.
        out_channels (int, optional): Per attention group in
            ``'per_attention'`` mode. Defaults to ``(num_layers + 1) *
            in_channels``, the dense block's concatenated width.
        num_layers (int): Densely connected layers. Defaults to 3.
        mode (str): ``'shared'`` or ``'per_attention'``.
        num_attentions (int): Groups of ``'per_attention'``.
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None,
                 num_layers: int = 3, mode: str = 'shared',
                 num_attentions: int = 4) -> None:
        super().__init__()
        if mode not in TEXTURE_MODES:
            raise ValueError(f'texture_mode must be one of {TEXTURE_MODES}, '
                             f'got {mode!r}')
        if num_layers < 1:
            raise ValueError(f'texture_layers must be >= 1, got {num_layers}')
        self.mode = mode
        g = num_attentions if mode == 'per_attention' else 1
        self.groups = g
        C = in_channels
        self.out_channels = out_channels or (num_layers + 1) * C
        self.conv0 = nn.Conv2d(g * C, g * C, 3, padding=1, groups=g)
        self.norms = nn.ModuleList(
            [nn.BatchNorm2d(g * C * i) for i in range(1, num_layers + 1)])
        self.convs = nn.ModuleList([
            nn.Conv2d(g * C * i, g * C, 3, padding=1, groups=g)
            for i in range(1, num_layers + 1)
        ])
        width = (num_layers + 1) * C
        self.norm_last = nn.BatchNorm2d(g * width)
        self.conv_last = nn.Conv2d(g * width, g * self.out_channels, 1,
                                   groups=g)
        self.norm_out = nn.BatchNorm2d(g * self.out_channels)

    @staticmethod
    def residual(x: torch.Tensor, size: Sequence[int]
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(x - up(pool(x)), pool(x))`` with ``pool`` the adaptive
        average pooling to ``size``."""
        d = F.adaptive_avg_pool2d(x, tuple(size))
        if x.shape[-2] > d.shape[-2] or x.shape[-1] > d.shape[-1]:
            x = x - F.interpolate(d, size=x.shape[-2:], mode='nearest')
        return x, d

    def forward(self, x: torch.Tensor, attentions: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(T, D)``: the textural feature ((B, C_out, H, W), or (B, M,
        C_out, H, W) per attention) and the pooled ``D`` (B, C, h, w) on
        the grid of ``attentions`` (B, M, h, w)."""
        B, C, H, W = x.shape
        r, d = self.residual(x, attentions.shape[-2:])
        g = self.groups
        if g > 1:
            a = torch.tanh(F.interpolate(attentions.detach().to(r.dtype),
                                         size=(H, W), mode='bilinear',
                                         align_corners=False))
            r = (r.unsqueeze(1) * a.unsqueeze(2)).reshape(B, g * C, H, W)
        ys = [self.conv0(r)]
        for norm, conv in zip(self.norms, self.convs):
            ys.append(conv(F.relu(norm(_group_cat(ys, g)))))
        t = self.conv_last(F.relu(self.norm_last(_group_cat(ys, g))))
        t = F.relu(self.norm_out(t))
        if g > 1:
            t = t.reshape(B, g, self.out_channels, H, W)
        return t, d
