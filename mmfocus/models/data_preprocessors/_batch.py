# Copyright (c) mmfocus contributors.
"""The batch check shared by the modality filters."""
import torch


def _check_batch(x: torch.Tensor, name: str = 'x') -> torch.Tensor:
    """Check a ``(B, C, H, W)`` tensor and promote non-float dtypes."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(x)}')
    if x.dim() != 4:
        raise ValueError(
            f'{name} must have shape (B, C, H, W), got {tuple(x.shape)}')
    if not x.is_floating_point():
        x = x.float()
    return x
