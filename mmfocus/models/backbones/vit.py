# Copyright (c) mmfocus contributors.
"""ViT backbone with fixed 2-D sin-cos position encoding (FoCus, Sec. III-A).

The block structure and parameter names are timm's
(``timm.models.vision_transformer``), so DeiT / timm checkpoints load after a
key-preserving conversion (``tools/model_converters/timm_vit_to_mmfocus.py``).
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from timm.layers import PatchEmbed
from timm.models.vision_transformer import Block

from mmfocus.registry import MODELS
from mmfocus.utils.checkpoint import load_pretrained


def get_2d_sincos_pos_embed(embed_dim: int, grid_size: Tuple[int, int],
                            temperature: float = 10000.) -> np.ndarray:
    """Fixed 2-D sin-cos position encoding (MoCo v3 / MAE form).

    Half of the channels encode the row, half the column; each half is
    ``[sin(p * w_i), cos(p * w_i)]`` with ``w_i = 1 / temperature**(i / (D/4))``.

    Args:
        embed_dim (int): Channels D, divisible by 4.
        grid_size (tuple[int, int]): Patch grid (h, w).
        temperature (float): Frequency base. Defaults to 10000.

    Returns:
        np.ndarray: (h * w, D) float32, row-major over the grid.
    """
    if embed_dim % 4 != 0:
        raise ValueError(f'embed_dim must be divisible by 4, got {embed_dim}')
    h, w = grid_size
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float64),
                         np.arange(w, dtype=np.float64), indexing='ij')
    quarter = embed_dim // 4
    omega = 1. / temperature**(np.arange(quarter, dtype=np.float64) / quarter)
    out_y = gy.reshape(-1, 1) * omega[None]
    out_x = gx.reshape(-1, 1) * omega[None]
    emb = np.concatenate(
        [np.sin(out_y), np.cos(out_y), np.sin(out_x), np.cos(out_x)], axis=1)
    return emb.astype(np.float32)


def distance_attn_bias(grid_size: Tuple[int, int], slopes: Sequence[float],
                       num_prefix: int = 1, num_suffix: int = 0,
                       prefix_bias: float = 0.) -> torch.Tensor:
    """Additive 2-D ALiBi bias for a token sequence laid out as
    ``num_prefix`` tokens (class token), the ``h x w`` patch grid in
    row-major order, then ``num_suffix`` tokens (registers).

    Returns:
        Tensor: (1, len(slopes), L, L) float32, ``-slope_h * ||p - q||`` (the
        Euclidean distance of two patches in grid cells) between patches p
        and q; ``prefix_bias`` where a patch attends to a prefix or suffix
        token; 0 in every row of a prefix or suffix token.
    """
    h, w = grid_size
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                            torch.arange(w, dtype=torch.float64),
                            indexing='ij')
    pos = torch.stack([ys.flatten(), xs.flatten()], dim=1)
    dist = torch.cdist(pos, pos)  # N, N
    n, L = h * w, num_prefix + h * w + num_suffix
    s = torch.as_tensor(list(slopes), dtype=torch.float64).view(-1, 1, 1)
    bias = torch.zeros(1, len(slopes), L, L, dtype=torch.float64)
    patches = slice(num_prefix, num_prefix + n)
    bias[0, :, patches, patches] = -s * dist
    bias[0, :, patches, :num_prefix] = prefix_bias
    bias[0, :, patches, num_prefix + n:] = prefix_bias
    return bias.float()


class ConvStem(nn.Module):
    """Early-convolution patch stem (Xiao et al., "Early Convolutions Help
    Transformers See Better", NeurIPS 2021), a drop-in for timm's
    ``PatchEmbed``.

    ``log2(patch_size)`` stride-2 3x3 conv + BatchNorm + ReLU layers, with
    ``embed_dim / 2**(n-1-i)`` channels for layer ``i`` of ``n`` (the
    paper's 48-96-192-384 for ViT-S/16), then a 1x1 conv to ``embed_dim``:
    the same token grid as a ``patch_size`` patch embedding. It trains
    from scratch on small data far better than the linear patch
    projection; it has no ImageNet weights to load from a DeiT file.

    Args:
        img_size (tuple[int, int]): Input size.
        patch_size (int): Total stride, a power of 2 (>= 2).
        in_chans (int): Input channels.
        embed_dim (int): Token channels.
    """

    def __init__(self, img_size: Tuple[int, int], patch_size: int,
                 in_chans: int, embed_dim: int) -> None:
        super().__init__()
        n = int(round(np.log2(patch_size)))
        if patch_size < 2 or 2**n != patch_size:
            raise ValueError(f"stem='conv' needs a power-of-2 patch_size, "
                             f'got {patch_size}')
        if img_size[0] % patch_size or img_size[1] % patch_size:
            raise ValueError(f'img_size {img_size} is not divisible by the '
                             f'patch size {patch_size}')
        layers, c_in = [], in_chans
        for i in range(n):
            c_out = max(embed_dim // 2**(n - 1 - i), 8)
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1,
                                 bias=False),
                       nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        layers.append(nn.Conv2d(c_in, embed_dim, 1))
        self.proj = nn.Sequential(*layers)
        self.img_size = tuple(img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (img_size[0] // patch_size,
                          img_size[1] // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != self.img_size:
            raise ValueError(f'input size {tuple(x.shape[-2:])} does not '
                             f'match the stem img_size {self.img_size}')
        return self.proj(x).flatten(2).transpose(1, 2)


@MODELS.register_module()
class FoCusViT(BaseModule):
    """Vision Transformer returning patch tokens and the class token.

    Args:
        arch (str | dict): A preset from :attr:`arch_zoo` or a dict with
            ``embed_dim``, ``depth``, ``num_heads`` and ``mlp_ratio``.
            Defaults to ``'deit-s'`` (ViT-S/16, 22.05 M params).
        img_size (int | tuple): Input size. Defaults to 224.
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        pos_embed (str): ``'sincos'`` (fixed 2-D sin-cos, the paper's choice)
            or ``'learned'`` (DeiT's). Defaults to ``'sincos'``.
        qkv_bias (bool): Defaults to True.
        drop_path_rate (float): Stochastic depth. Defaults to 0.
        fused_attn (bool): Use ``F.scaled_dot_product_attention``.
            Defaults to True.
        stem (str): ``'patch'`` (the ViT linear patch projection, what
            DeiT weights fit) or ``'conv'`` (:class:`ConvStem`, for models
            trained from scratch on small data, e.g. FoCus-demo).
            Defaults to ``'patch'``.
        num_registers (int): Extra learned tokens without position that
            join the sequence after the patches and are dropped at the end
            (Darcet et al., ICLR 2024, "Vision Transformers Need
            Registers"): they give global computation a place other than
            low-information patches, whose tokens would otherwise carry
            the image-level decision into the CAR maps. Defaults to 0.
        attn_distance_slopes (Sequence[float], optional): One slope per
            head for a fixed 2-D distance bias on the attention logits
            between patches (ALiBi, Press et al., ICLR 2022, on the token
            grid): head h adds ``-slope_h * ||p - q||`` (distance in
            tokens) to the logit of patch p attending to patch q, so a
            patch token mostly sees its neighbourhood and its CAR-map
            value depends on its own part of the face. The class token and
            the registers attend without bias and are attended with
            ``attn_prefix_bias`` (the image-level route). A slope of 0
            leaves that head global.
            Fixed, not learned; not saved in checkpoints. Defaults to None
            (plain global attention).
        attn_prefix_bias (float): With ``attn_distance_slopes``, added to
            the logits of every patch attending to the class token or a
            register; ``-1e4`` closes that route, so patch tokens are
            strictly local and the image-level decision must come from
            them. Defaults to 0.
        pretrained (str, optional): Local path of a converted checkpoint
            (see ``tools/model_converters/timm_vit_to_mmfocus.py``); never a
            URL. Defaults to None.
        init_cfg (dict, optional): mmengine init config. Defaults to None.

    Example:
        >>> vit = FoCusViT(arch='test', img_size=32, patch_size=8)
        >>> tokens, cls = vit(torch.rand(2, 3, 32, 32))
        >>> tokens.shape, cls.shape
        (torch.Size([2, 16, 64]), torch.Size([2, 64]))
    """
    arch_zoo: Dict[str, dict] = {
        'deit-s': dict(embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.),
        'deit-t': dict(embed_dim=192, depth=12, num_heads=3, mlp_ratio=4.),
        'deit-b': dict(embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.),
        # CPU demo model (trained from scratch on the built-in demo data).
        'demo': dict(embed_dim=192, depth=6, num_heads=3, mlp_ratio=4.),
        # A smaller CPU demo model (trained from scratch in minutes).
        'mini': dict(embed_dim=128, depth=4, num_heads=2, mlp_ratio=4.),
        # Unit tests.
        'test': dict(embed_dim=64, depth=2, num_heads=2, mlp_ratio=2.),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'deit-s',
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 pos_embed: str = 'sincos',
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.,
                 fused_attn: bool = True,
                 stem: str = 'patch',
                 num_registers: int = 0,
                 attn_distance_slopes: Optional[Sequence[float]] = None,
                 attn_prefix_bias: float = 0.,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise KeyError(f'unknown FoCusViT arch {arch!r}; choose from '
                               f'{sorted(self.arch_zoo)} or pass a dict')
            arch = self.arch_zoo[arch]
        missing = {'embed_dim', 'depth', 'num_heads'} - set(arch)
        if missing:
            raise KeyError(f'FoCusViT arch dict lacks {sorted(missing)}')
        if pos_embed not in ('sincos', 'learned'):
            raise ValueError(f"pos_embed must be 'sincos' or 'learned', "
                             f'got {pos_embed!r}')
        self.embed_dim = D = int(arch['embed_dim'])
        self.depth = int(arch['depth'])
        self.num_heads = int(arch['num_heads'])
        self.pos_embed_type = pos_embed
        self.pretrained = pretrained
        img_size = (img_size, img_size) if isinstance(img_size, int) \
            else tuple(img_size)
        if stem == 'patch':
            self.patch_embed = PatchEmbed(
                img_size=img_size, patch_size=patch_size,
                in_chans=in_channels, embed_dim=D, strict_img_size=True)
        elif stem == 'conv':
            self.patch_embed = ConvStem(img_size, patch_size, in_channels, D)
        else:
            raise ValueError(f"stem must be 'patch' or 'conv', got {stem!r}")
        self.stem = stem
        self.grid_size = self.patch_embed.grid_size
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        if int(num_registers) < 0:
            raise ValueError(f'num_registers must be >= 0, got '
                             f'{num_registers}')
        self.num_registers = int(num_registers)
        if self.num_registers:
            self.reg_token = nn.Parameter(
                torch.zeros(1, self.num_registers, D))
        if pos_embed == 'sincos':
            pe = torch.zeros(1, self.num_patches + 1, D)
            pe[0, 1:] = torch.from_numpy(
                get_2d_sincos_pos_embed(D, self.grid_size))
            # Fixed: a buffer, not saved, never overwritten by a checkpoint.
            self.register_buffer('pos_embed', pe, persistent=False)
        else:
            self.pos_embed = nn.Parameter(
                torch.zeros(1, self.num_patches + 1, D))
        dpr = np.linspace(0, drop_path_rate, self.depth).tolist()
        self.blocks = nn.Sequential(*[
            Block(dim=D, num_heads=self.num_heads,
                  mlp_ratio=float(arch.get('mlp_ratio', 4.)),
                  qkv_bias=qkv_bias, drop_path=dpr[i])
            for i in range(self.depth)
        ])
        for blk in self.blocks:
            blk.attn.fused_attn = fused_attn
        self.attn_distance_slopes = None
        if attn_distance_slopes is not None:
            slopes = [float(v) for v in attn_distance_slopes]
            if len(slopes) != self.num_heads or min(slopes) < 0:
                raise ValueError(
                    f'attn_distance_slopes needs {self.num_heads} slopes '
                    f'>= 0 (one per head), got {list(attn_distance_slopes)}')
            self.attn_distance_slopes = tuple(slopes)
            self.register_buffer(
                'attn_bias', distance_attn_bias(
                    self.grid_size, slopes, 1, self.num_registers,
                    prefix_bias=float(attn_prefix_bias)),
                persistent=False)
        elif attn_prefix_bias:
            raise ValueError('attn_prefix_bias needs attn_distance_slopes')
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self._init_params()

    def _init_params(self) -> None:
        # timm's ViT init: trunc-normal linear weights, zero biases.
        nn.init.normal_(self.cls_token, std=1e-6)
        if self.num_registers:
            nn.init.normal_(self.reg_token, std=1e-6)
        if self.pos_embed_type == 'learned':
            nn.init.trunc_normal_(self.pos_embed, std=.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        """Load ``pretrained`` (a local converted file) if given, exactly.

        Raises ``FileNotFoundError`` for a missing file and ``RuntimeError``
        for an unreadable one or one whose keys/shapes do not match (a
        learned ``pos_embed`` in the file is dropped when this backbone uses
        the fixed sin-cos encoding).
        """
        super().init_weights()
        if self.pretrained is None:
            return
        if not osp.isfile(self.pretrained):
            raise FileNotFoundError(
                f'pretrained backbone weights not found: {self.pretrained} '
                '(convert a local timm/DeiT checkpoint with '
                'tools/model_converters/timm_vit_to_mmfocus.py; mmfocus never '
                'downloads weights)')
        self.load_pretrained_file(self.pretrained)

    def load_pretrained_file(self, path: str,
                             prefix: Optional[str] = None) -> None:
        """Load converted weights from ``path`` (see :meth:`init_weights`);
        also what ``init_cfg=dict(type='Pretrained', ...)`` calls."""
        ignore = ('pos_embed', ) if self.pos_embed_type == 'sincos' else ()
        new = ('reg_token', ) if self.num_registers else ()
        load_pretrained(self, path, prefix=prefix, ignore_keys=ignore,
                        new_keys=new)
        print_log(f'FoCusViT: loaded {path}', logger='current')

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """Encode images.

        Args:
            x (Tensor): (B, C, H, W).
            return_attn (bool): Also return the last block's class-token
                self-attention over patches, mean over heads, (B, N).
                Defaults to False.

        Returns:
            tuple: ``(patch_tokens (B, N, D), cls_token (B, D))``, plus the
            attention (B, N) when ``return_attn``.
        """
        x = self.embed(x)
        attn = None
        bias = self._attn_bias(x)
        for i, blk in enumerate(self.blocks):
            if return_attn and i == self.depth - 1:
                attn = self._cls_attention(blk, x)
            x = blk(x, attn_mask=bias)
        x = self.norm(x)
        out = (x[:, 1:1 + self.num_patches], x[:, 0])
        return out + (attn, ) if return_attn else out

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The blocks' input (B, 1 + N [+ registers], D): patch embedding,
        class token first, position encoding, register tokens last."""
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed.to(x.dtype)
        if self.num_registers:
            x = torch.cat([x, self.reg_token.expand(x.shape[0], -1, -1)],
                          dim=1)
        return x

    def _attn_bias(self, x: torch.Tensor) -> Optional[torch.Tensor]:
        """The distance bias (1, heads, L, L) in the dtype SDPA wants for
        ``x``'s queries, or None without ``attn_distance_slopes``."""
        if self.attn_distance_slopes is None:
            return None
        dtype = torch.get_autocast_dtype(x.device.type) \
            if torch.is_autocast_enabled(x.device.type) else x.dtype
        return self.attn_bias.to(dtype)

    def _block_index(self, i: int) -> int:
        j = int(i) + self.depth if int(i) < 0 else int(i)
        if not 0 <= j < self.depth:
            raise IndexError(f'block index {i} out of range for depth '
                             f'{self.depth}')
        return j

    def forward_with_intermediates(
            self,
            x: torch.Tensor,
            token_indices: Sequence[int] = (),
            attn_indices: Sequence[int] = ()) -> Dict[str, object]:
        """Encode images and keep what chosen blocks compute (UIA-ViT).

        The blocks in ``attn_indices`` run with explicit attention (the
        same arithmetic as timm's non-fused path, see
        :meth:`block_with_attn_logits`), so their pre-softmax logits come
        at no extra projection cost; the other blocks run unchanged.

        Args:
            x (Tensor): (B, C, H, W).
            token_indices (Sequence[int]): Blocks (0-based, negative from
                the end) whose output tokens to return. Defaults to ().
            attn_indices (Sequence[int]): Blocks whose attention logits to
                return. Defaults to ().

        Returns:
            dict: ``patch_tokens`` (B, N, D) and ``cls_token`` (B, D) after
            the final norm (as :meth:`forward`); ``tokens``: a list of
            (B, 1 + N, D) block outputs before any norm (class token
            first, registers dropped), in ``token_indices`` order;
            ``attn_logits``: a list of (B, 1 + N, 1 + N) pre-softmax
            logits ``q k^T / sqrt(d)``, mean over heads, in
            ``attn_indices`` order.
        """
        tok = [self._block_index(i) for i in token_indices]
        att = [self._block_index(i) for i in attn_indices]
        n = 1 + self.num_patches
        x = self.embed(x)
        bias = self._attn_bias(x)
        tokens, logits = {}, {}
        for i, blk in enumerate(self.blocks):
            if i in att:
                x, a = self.block_with_attn_logits(blk, x, bias)
                logits[i] = a[:, :n, :n]
            else:
                x = blk(x, attn_mask=bias)
            if i in tok:
                tokens[i] = x[:, :n]
        x = self.norm(x)
        return dict(patch_tokens=x[:, 1:n], cls_token=x[:, 0],
                    tokens=[tokens[i] for i in tok],
                    attn_logits=[logits[i] for i in att])

    @staticmethod
    def block_with_attn_logits(blk: Block, x: torch.Tensor,
                               bias: Optional[torch.Tensor] = None
                               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``blk(x, attn_mask=bias)`` with explicit attention, and its
        logits.

        Args:
            blk (Block): A timm ViT block.
            x (Tensor): (B, L, D) block input.
            bias (Tensor, optional): Additive attention bias broadcastable
                to (B, heads, L, L) (:func:`distance_attn_bias`), part of
                the returned logits. Defaults to None.

        Returns:
            tuple: the block output (B, L, D) (``blk(x)`` up to float
            rounding) and the pre-softmax attention logits (B, L, L),
            mean over heads.
        """
        a = blk.attn
        h = blk.norm1(x)
        B, L, _ = h.shape
        gate = getattr(a, 'gate', None)
        gate = gate(h).sigmoid() if gate is not None else None
        q, k, v = FoCusViT._qkv(a, h)
        logits = (q * a.scale) @ k.transpose(-2, -1)  # B, heads, L, L
        if bias is not None:
            logits = logits + bias.to(logits.dtype)
        o = a.attn_drop(logits.softmax(dim=-1)) @ v
        o = o.transpose(1, 2).reshape(B, L, -1)
        norm = getattr(a, 'norm', None)
        if norm is not None:
            o = norm(o)
        if gate is not None:
            o = o * gate
        o = a.proj_drop(a.proj(o))
        x = x + blk.drop_path1(blk.ls1(o))
        x = x + blk.drop_path2(blk.ls2(blk.mlp(blk.norm2(x))))
        return x, logits.mean(dim=1)

    @staticmethod
    def _qkv(a, h: torch.Tensor
             ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries (q-normed), keys (k-normed) and values, each
        (B, heads, L, head_dim), of timm attention ``a`` on the normed
        block input ``h`` (B, L, D)."""
        B, L, C = h.shape
        head_dim = getattr(a, 'head_dim', C // a.num_heads)
        qkv = a.qkv(h).reshape(B, L, 3, a.num_heads, head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return a.q_norm(q), a.k_norm(k), v

    def _cls_attention(self, blk: Block, x: torch.Tensor) -> torch.Tensor:
        """Class-token attention probabilities of ``blk`` on input ``x``."""
        a = blk.attn
        q, k, _ = self._qkv(a, blk.norm1(x))
        attn = (q[:, :, :1] * a.scale) @ k.transpose(-2, -1)  # B,h,1,N
        # (the class token's row of a distance bias is zero: nothing to add)
        attn = attn.softmax(dim=-1)[:, :, 0, 1:1 + self.num_patches]
        return attn.mean(dim=1)
