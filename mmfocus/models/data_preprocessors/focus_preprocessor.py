# Copyright (c) mmfocus contributors.
"""Batching, normalisation and the modality views (Sobel, DCT, SRM)."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import ImgDataPreprocessor

from mmfocus.registry import MODELS
from .modality_filters import ModalityFilter


def stack_batch(inputs: Sequence[torch.Tensor], what: str,
                hint: str) -> torch.Tensor:
    """Stack a batch's samples, with one clear error (naming ``what`` and
    the shapes found, then ``hint``) when their shapes differ."""
    shapes = {tuple(x.shape) for x in inputs}
    if len(shapes) != 1:
        raise ValueError(f'{what} in a batch differ in shape: '
                         f'{sorted(shapes)}; {hint}')
    return torch.stack(list(inputs))


@MODELS.register_module()
class FoCusDataPreprocessor(ImgDataPreprocessor):
    """Stack images, make one view per modality, normalise.

    The modality filters run here, on the batch and on the model's device
    (GPU when present), from the unnormalised RGB image in [0, 255].
    ``'rgb'`` is normalised by ``mean``/``std``; the filtered views are
    standardised per image and channel by :class:`ModalityFilter` (or as
    ``filter_cfg`` says).

    Args:
        modalities (Sequence[str]): Views to produce, e.g.
            ``('rgb', 'sobel')``. Defaults to ``('rgb', 'sobel')``.
        mean, std (Sequence[float]): RGB normalisation (ImageNet).
        to_rgb (bool): Input images are BGR (cv2); convert. Defaults to True.
        sobel_mode (str): ``'magnitude'``, ``'x'`` or ``'y'``.
            Defaults to ``'magnitude'``.
        non_blocking (bool): Asynchronous host-to-device copies (pinned
            loader memory makes them truly asynchronous). Defaults to True.
        train_masks (bool): Keep ``gt_mask`` in the data samples during
            training. FoCus trains with labels only, so by default the masks
            are dropped before the copy to the device (they are used by
            validation/test map metrics, where they are kept). Defaults to
            False.
        filter_cfg (dict[str, dict], optional): Extra
            :class:`ModalityFilter` arguments per modality, e.g.
            ``dict(sobel=dict(normalize='fixed', mean=(...), std=(...)))``
            for fixed training-set statistics instead of per-image
            standardisation. Defaults to None.

    Returns (from ``forward``):
        dict: ``inputs`` = ``{modality: (B, 3, H, W) float}``,
        ``data_samples`` unchanged (moved to the device).
    """

    def __init__(self,
                 modalities: Sequence[str] = ('rgb', 'sobel'),
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True,
                 sobel_mode: str = 'magnitude',
                 non_blocking: Optional[bool] = True,
                 train_masks: bool = False,
                 filter_cfg: Optional[Dict[str, dict]] = None) -> None:
        super().__init__(mean=None, std=None, bgr_to_rgb=False,
                         non_blocking=non_blocking)
        self.modalities = tuple(dict.fromkeys(modalities))
        self.to_rgb = to_rgb
        self.train_masks = train_masks
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)
        filter_cfg = dict(filter_cfg or {})
        unknown = set(filter_cfg) - set(self.modalities)
        if unknown:
            raise ValueError(f'filter_cfg names modalities {sorted(unknown)} '
                             f'that are not in {self.modalities}')
        self.filters = torch.nn.ModuleDict({
            m: ModalityFilter(**{
                **dict(modality=m, sobel_mode=sobel_mode),
                **filter_cfg.get(m, {})
            })
            for m in self.modalities if m != 'rgb'
        })

    def forward(self, data: dict, training: bool = False) -> dict:
        if training and not self.train_masks:
            for ds in data.get('data_samples') or ():
                if 'gt_mask' in ds:
                    del ds.gt_mask
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = stack_batch(inputs, 'images',
                                 'add a Resize to the pipeline')
        if isinstance(inputs, dict):  # already preprocessed
            return dict(inputs=inputs, data_samples=data.get('data_samples'))
        x = inputs.float()
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f'expected (B, 3, H, W) images, got '
                             f'{tuple(x.shape)}')
        if self.to_rgb:
            x = x.flip(1)
        out: Dict[str, torch.Tensor] = {}
        for m in self.modalities:
            out[m] = (x - self.mean) / self.std if m == 'rgb' \
                else self.filters[m](x)
        return dict(inputs=out, data_samples=data.get('data_samples'))
