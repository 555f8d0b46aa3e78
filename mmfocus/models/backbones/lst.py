# Copyright (c) mmfocus contributors.
"""LTTD's Local Sequence Transformer (Guan et al., NeurIPS 2022, Sec. 3.1)."""
from typing import Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from timm.layers import trunc_normal_
from timm.models.vision_transformer import Block

from mmfocus.registry import MODELS


@MODELS.register_module()
class LocalSequenceTransformer(BaseModule):
    """One embedding per spatial patch *sequence* of a clip.

    A clip ``(B, T, 3, H, W)`` goes through low-level 3-D filters (a 3x3x3
    convolution + BN + ReLU, whose output is concatenated to the frames, so
    the embedding sees both the pixels and their local spatio-temporal
    differences); a ``(1, p, p)`` convolution then embeds every patch of
    every frame. Each of the ``N = (H / p) (W / p)`` spatial locations is a
    sequence of ``T`` patch tokens, which a small transformer with a
    learned temporal position embedding and a class token models
    independently of the other locations (the "local sequence"). Output:
    ``(B, N, D)`` sequence embeddings (the class tokens) and the grid.

    Args:
        clip_len (int): ``T``. Defaults to 8.
        patch_size (int): ``p``. Defaults to 16.
        embed_dims (int): ``D``. Defaults to 384.
        depth (int): Transformer blocks. Defaults to 4.
        num_heads (int): Defaults to 6.
        mlp_ratio (float): Defaults to 4.0.
        low_level_channels (int): Output channels of the 3-D filters.
            Defaults to 16.
        drop_path_rate (float): Stochastic depth, linear over the blocks.
            Defaults to 0.0.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 clip_len: int = 8,
                 patch_size: int = 16,
                 embed_dims: int = 384,
                 depth: int = 4,
                 num_heads: int = 6,
                 mlp_ratio: float = 4.0,
                 low_level_channels: int = 16,
                 drop_path_rate: float = 0.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.clip_len = clip_len
        self.patch_size = patch_size
        self.embed_dims = embed_dims
        self.low_level = nn.Sequential(
            nn.Conv3d(3, low_level_channels, 3, padding=1, bias=False),
            nn.BatchNorm3d(low_level_channels), nn.ReLU(inplace=True))
        self.patch_embed = nn.Conv3d(3 + low_level_channels, embed_dims,
                                     (1, patch_size, patch_size),
                                     stride=(1, patch_size, patch_size))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.time_embed = nn.Parameter(
            torch.zeros(1, clip_len + 1, embed_dims))
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.Sequential(*[
            Block(embed_dims, num_heads, mlp_ratio, qkv_bias=True,
                  drop_path=dpr[i]) for i in range(depth)])
        self.norm = nn.LayerNorm(embed_dims)
        trunc_normal_(self.cls_token, std=.02)
        trunc_normal_(self.time_embed, std=.02)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
        if x.dim() != 5:
            raise ValueError('LocalSequenceTransformer expects (B, T, 3, H, '
                             f'W) clips, got {tuple(x.shape)}')
        b, t = x.shape[:2]
        if t != self.clip_len:
            raise ValueError(f'clips of {t} frames, but the model was built '
                             f'for clip_len={self.clip_len}')
        if x.shape[-1] % self.patch_size or x.shape[-2] % self.patch_size:
            raise ValueError(f'frame size {tuple(x.shape[-2:])} is not a '
                             f'multiple of patch_size={self.patch_size}')
        x = x.transpose(1, 2)  # (B, 3, T, H, W)
        x = self.patch_embed(torch.cat([x, self.low_level(x)], 1))
        _, d, _, h, w = x.shape
        seq = x.permute(0, 3, 4, 2, 1).reshape(b * h * w, t, d)
        seq = torch.cat([self.cls_token.expand(seq.shape[0], -1, -1), seq],
                        1) + self.time_embed
        seq = self.norm(self.blocks(seq))
        return seq[:, 0].reshape(b, h * w, d), (h, w)
