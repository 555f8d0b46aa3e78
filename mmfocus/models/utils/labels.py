# Copyright (c) mmfocus contributors.
from typing import List

import torch


def gt_labels(data_samples: List, device, owner: str = 'model'
              ) -> torch.Tensor:
    """Concatenate the samples' ``gt_label`` on ``device`` (clear error if
    they are missing)."""
    if not data_samples or 'gt_label' not in data_samples[0]:
        raise ValueError(f'{owner}.loss needs data samples with gt_label')
    return torch.cat([ds.gt_label for ds in data_samples]).to(device)
