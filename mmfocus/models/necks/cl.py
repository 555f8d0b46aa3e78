# Copyright (c) mmfocus contributors.
"""Complementary Learning (CL) block (FoCus, Sec. III-C, Fig. 3)."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from timm.models.vision_transformer import Block

from mmfocus.registry import MODELS


def token_selection(scores: torch.Tensor, training: bool,
                    tau: float = 1.0, hard: bool = True) -> torch.Tensor:
    """Per-token choice between two modalities.

    Args:
        scores (Tensor): (B, N, 2) logits; index 0 keeps the primary (RGB)
            token, index 1 substitutes the secondary (e.g. Sobel) token.
        training (bool): Gumbel-softmax sample (straight-through when
            ``hard``) in training; noise-free argmax otherwise.
        tau (float): Gumbel temperature. Defaults to 1.0.
        hard (bool): Straight-through one-hot. Defaults to True.

    Returns:
        Tensor: M of shape (B, N), 1 = keep primary. Differentiable w.r.t.
        ``scores`` in training.
    """
    if training:
        return F.gumbel_softmax(scores.float(), tau=tau, hard=hard,
                                dim=-1)[..., 0]
    return (scores[..., 0] >= scores[..., 1]).to(scores.dtype)


@MODELS.register_module()
class ComplementaryLearningNeck(BaseModule):
    """Swap RGB tokens for Sobel tokens by hard Gumbel-softmax and fuse them.

    Two MLPs score the tokens of each modality; per position the two scores
    form a 2-way categorical sampled with hard straight-through Gumbel-softmax
    (argmax at test time). Fused tokens ``M*T_a + (1-M)*T_b`` pass one
    transformer block, a LayerNorm and average pooling: the fused feature
    that FoCus's CL head (a linear classifier, mmpretrain's
    ``LinearClsHead``) classifies.

    Args:
        embed_dim (int): Token dimension D.
        num_heads (int): Heads of the fusion block. Defaults to 6.
        mlp_ratio (float): Fusion block MLP ratio. Defaults to 4.
        score_hidden_ratio (float): Hidden width of the scoring MLPs as a
            fraction of D. Defaults to 0.5.
        tau (float): Gumbel temperature (interpretation: 1.0).
            Defaults to 1.0.
        hard (bool): Straight-through hard samples. Defaults to True.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 embed_dim: int,
                 num_heads: int = 6,
                 mlp_ratio: float = 4.,
                 score_hidden_ratio: float = 0.5,
                 tau: float = 1.0,
                 hard: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden = max(1, int(embed_dim * score_hidden_ratio))

        def mlp():
            return nn.Sequential(
                nn.Linear(embed_dim, hidden), nn.GELU(), nn.Linear(hidden, 1))

        self.score_a = mlp()
        self.score_b = mlp()
        self.tau = tau
        self.hard = hard
        self.block = Block(dim=embed_dim, num_heads=num_heads,
                           mlp_ratio=mlp_ratio, qkv_bias=True)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def forward(self, tokens_a: torch.Tensor,
                tokens_b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Args:
            tokens_a (Tensor): (B, N, D) primary (RGB) patch tokens.
            tokens_b (Tensor): (B, N, D) secondary (Sobel) patch tokens.

        Returns:
            tuple: fused feature (B, D) and token mask M (B, N).
        """
        if tokens_a.shape != tokens_b.shape:
            raise ValueError(f'CL needs equal token shapes, got '
                             f'{tuple(tokens_a.shape)} and '
                             f'{tuple(tokens_b.shape)}')
        scores = torch.cat([self.score_a(tokens_a), self.score_b(tokens_b)],
                           dim=-1)
        m = token_selection(scores, self.training, self.tau, self.hard)
        m_ = m.unsqueeze(-1).to(tokens_a.dtype)
        fused = m_ * tokens_a + (1 - m_) * tokens_b
        return self.norm(self.block(fused)).mean(dim=1), m
