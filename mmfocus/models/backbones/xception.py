# Copyright (c) mmfocus contributors.
"""Xception (Chollet, CVPR 2017), the FaceForensics++ baseline backbone.

The ``'legacy'`` arch is exactly timm's ``legacy_xception`` (the Keras port
by Cadene that FaceForensics++ (Rössler et al., ICCV 2019) fine-tunes): the
same modules under the same names, so timm's ImageNet weights load after
:func:`mmfocus.models.converters.convert_timm_xception` (which only drops
the 1000-class ``fc``). Tested against timm with random weights: equal
features and logits, and timm's 22,855,952 parameters with its ``fc``.
"""
import copy
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmfocus.registry import MODELS

__all__ = ['Xception', 'XceptionBlock', 'SeparableConv2d']


class SeparableConv2d(nn.Module):
    """Depthwise ``k x k`` convolution then pointwise ``1 x 1`` (no bias).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Depthwise kernel. Defaults to 3.
        stride (int): Depthwise stride. Defaults to 1.
        padding (int): Depthwise padding. Defaults to 1.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 stride: int = 1,
                 padding: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size, stride,
                               padding, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.conv1(x))


class XceptionBlock(nn.Module):
    """An Xception residual block: ``reps`` x (ReLU, separable conv, BN),
    an optional 3x3 max-pool of stride ``stride``, plus a skip (identity, or
    a strided 1x1 conv + BN when the shape changes).

    The output is **not** activated (the next block starts with a ReLU that
    does not modify its input in place).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        reps (int): Separable convolutions.
        stride (int): Max-pool stride (1: no pool). Defaults to 1.
        start_with_relu (bool): Begin with a ReLU. Defaults to True.
        grow_first (bool): The first convolution changes the width (True),
            or the last one does (False, the exit-flow block).
            Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 reps: int,
                 stride: int = 1,
                 start_with_relu: bool = True,
                 grow_first: bool = True) -> None:
        super().__init__()
        if out_channels != in_channels or stride != 1:
            self.skip = nn.Conv2d(in_channels, out_channels, 1, stride=stride,
                                  bias=False)
            self.skipbn = nn.BatchNorm2d(out_channels)
        else:
            self.skip = None
        rep = []
        for i in range(reps):
            if grow_first:
                cin = in_channels if i == 0 else out_channels
                cout = out_channels
            else:
                cin = in_channels
                cout = in_channels if i < reps - 1 else out_channels
            # only the first ReLU sees the block input: never in place
            rep.append(nn.ReLU(inplace=i > 0))
            rep.append(SeparableConv2d(cin, cout, 3, 1, 1))
            rep.append(nn.BatchNorm2d(cout))
        if not start_with_relu:
            rep = rep[1:]
        if stride != 1:
            rep.append(nn.MaxPool2d(3, stride, 1))
        self.rep = nn.Sequential(*rep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.rep(x)
        skip = x if self.skip is None else self.skipbn(self.skip(x))
        return out + skip


@MODELS.register_module()
class Xception(BaseModule):
    """Xception as a backbone returning a tuple of feature maps.

    Layout (module names as timm's ``legacy_xception``): stem ``conv1``
    (3x3, stride 2, no padding) / ``bn1`` / ``act1``, ``conv2`` (3x3, no
    padding) / ``bn2`` / ``act2``; entry flow ``block1..3`` (stride 2
    each); middle flow ``block4..block{3+M}`` (``M`` identity-shaped blocks
    of 3 separable convs); exit flow ``block{4+M}`` (stride 2) and the
    separable ``conv3`` / ``bn3`` / ``act3`` / ``conv4`` / ``bn4`` /
    ``act4``.

    Outputs (``out_indices``), for the legacy arch at 299 px:

    ====  =================================  ========  =======
    idx   tensor                             channels  size
    ====  =================================  ========  =======
    0     stem (``act2``)                    64        147
    1     ``block1``                         128       74
    2     ``block2``                         256       37
    3     entry flow (``block3``)            728       19
    4     middle flow (last middle block)    728       19
    5     exit flow (``act4``)               2048      10
    ====  =================================  ========  =======

    Block outputs (1-4) are the raw residual sums (timm's
    ``forward_intermediates`` returns them after a ReLU); 0 and 5 are
    activated, as in timm.

    Archs: ``'legacy'`` (22.9 M with a 1000-class fc; widths 32, 64 / 128,
    256, 728 / 8 middle blocks / 1024, 1536, 2048) and ``'tiny'`` (a test
    and CPU-demo variant: widths 8, 16 / 16, 32, 64 / 2 middle blocks /
    96, 128, 128), or a dict with the keys of :attr:`arch_zoo`.

    Args:
        arch (str | dict): Defaults to 'legacy'.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (Sequence[int] | int): Outputs to return (negative
            indices count from 5). Defaults to (5, ).
        img_size (int | Sequence[int], optional): The nominal input size
            ``(H, W)`` (299 for FF++), read by the inference tools
            (:func:`mmfocus.apis.inference.model_input_size`) and
            ``get_flops``; the network itself is fully convolutional and
            takes any input of at least 32 px. Defaults to None.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone')`` for a file written by
            ``tools/model_converters/timm_xception_to_mmfocus.py``. Without
            it, timm's initialisation (Kaiming-normal fan-out convs, unit
            BN). Defaults to None.

    Example:
        >>> m = Xception('tiny', out_indices=(3, 4, 5)).eval()
        >>> [tuple(f.shape) for f in m(torch.zeros(1, 3, 64, 64))]
        [(1, 64, 4, 4), (1, 64, 4, 4), (1, 128, 2, 2)]
    """

    arch_zoo: Dict[str, dict] = {
        'legacy': dict(stem_channels=(32, 64),
                       entry_channels=(128, 256, 728),
                       middle_blocks=8,
                       exit_channels=1024,
                       head_channels=(1536, 2048)),
        'tiny': dict(stem_channels=(8, 16),
                     entry_channels=(16, 32, 64),
                     middle_blocks=2,
                     exit_channels=96,
                     head_channels=(128, 128)),
    }
    num_stages: int = 6

    def __init__(self,
                 arch: Union[str, dict] = 'legacy',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (5, ),
                 img_size: Optional[Union[int, Sequence[int]]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise KeyError(f'Xception arch {arch!r} is not one of '
                               f'{sorted(self.arch_zoo)}')
            arch = self.arch_zoo[arch]
        arch = copy.deepcopy(dict(arch))
        need = set(self.arch_zoo['legacy'])
        if set(arch) != need:
            raise KeyError(f'a custom Xception arch needs exactly the keys '
                           f'{sorted(need)}, got {sorted(arch)}')
        if len(arch['stem_channels']) != 2 or len(
                arch['entry_channels']) != 3 or len(
                    arch['head_channels']) != 2:
            raise ValueError('Xception arch: stem_channels and head_channels '
                             'need 2 widths, entry_channels 3')
        if arch['middle_blocks'] < 1:
            raise ValueError('Xception arch: middle_blocks must be >= 1')
        self.arch = arch
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        idx = []
        for i in out_indices:
            j = i + self.num_stages if i < 0 else i
            if not 0 <= j < self.num_stages:
                raise IndexError(f'Xception out_indices {tuple(out_indices)}'
                                 f' out of range 0..{self.num_stages - 1}')
            idx.append(j)
        self.out_indices = tuple(idx)
        self.img_size = img_size
        c1, c2 = arch['stem_channels']
        e1, e2, e3 = arch['entry_channels']
        h1, h2 = arch['head_channels']
        self.conv1 = nn.Conv2d(in_channels, c1, 3, 2, 0, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c1, c2, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.act2 = nn.ReLU(inplace=True)
        specs = [(c2, e1, 2, 2, False, True), (e1, e2, 2, 2, True, True),
                 (e2, e3, 2, 2, True, True)]
        specs += [(e3, e3, 3, 1, True, True)] * arch['middle_blocks']
        specs += [(e3, arch['exit_channels'], 2, 2, True, False)]
        for i, (cin, cout, reps, stride, relu, grow) in enumerate(specs):
            self.add_module(f'block{i + 1}',
                            XceptionBlock(cin, cout, reps, stride, relu, grow))
        self.num_blocks = len(specs)
        self.conv3 = SeparableConv2d(arch['exit_channels'], h1, 3, 1, 1)
        self.bn3 = nn.BatchNorm2d(h1)
        self.act3 = nn.ReLU(inplace=True)
        self.conv4 = SeparableConv2d(h1, h2, 3, 1, 1)
        self.bn4 = nn.BatchNorm2d(h2)
        self.act4 = nn.ReLU(inplace=True)
        #: Channels of each output index.
        self.stage_channels: Tuple[int, ...] = (c2, e1, e2, e3, e3, h2)
        self.out_channels = h2
        self._timm_init()

    def _timm_init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    # the pieces, for two-stream models (GFFD) that run stages in lockstep
    def block(self, i: int) -> XceptionBlock:
        """``block{i}`` (1-based, as named)."""
        if not 1 <= i <= self.num_blocks:
            raise IndexError(f'Xception has block1..block{self.num_blocks}, '
                             f'not block{i}')
        return getattr(self, f'block{i}')

    @property
    def entry_blocks(self) -> int:
        """Number of the last entry-flow block (3)."""
        return 3

    @property
    def middle_end(self) -> int:
        """Number of the last middle-flow block (``3 + M``)."""
        return self.num_blocks - 1

    def forward_stem1(self, x: torch.Tensor) -> torch.Tensor:
        """``conv1``, ``bn1``, ``act1``: ``(B, c1, (H - 3) // 2 + 1, ...)``."""
        return self.act1(self.bn1(self.conv1(x)))

    def forward_stem2(self, x: torch.Tensor) -> torch.Tensor:
        """``conv2``, ``bn2``, ``act2`` (output index 0)."""
        return self.act2(self.bn2(self.conv2(x)))

    def forward_exit_convs(self, x: torch.Tensor) -> torch.Tensor:
        """``conv3 .. act4`` after the exit block (output index 5)."""
        x = self.act3(self.bn3(self.conv3(x)))
        return self.act4(self.bn4(self.conv4(x)))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Features at :attr:`out_indices`.

        Args:
            x (torch.Tensor): ``(B, in_channels, H, W)``.

        Returns:
            tuple[torch.Tensor]: One ``(B, C, h, w)`` map per out index.
        """
        # the block whose output each index is (0: the stem)
        ends = (0, 1, 2, 3, self.middle_end, self.num_blocks)
        last = max(self.out_indices)
        x = self.forward_stem2(self.forward_stem1(x))
        outs = {0: x}
        for i in range(1, ends[last] + 1):
            x = self.block(i)(x)
            if i in ends[1:5]:
                outs[ends.index(i)] = x
        if last == 5:
            outs[5] = self.forward_exit_convs(x)
        return tuple(outs[i] for i in self.out_indices)
