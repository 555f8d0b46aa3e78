"""Helpers shared by the baseline-detector tests: a model from a config
with some of its ``model`` keys replaced, and label-only data samples."""
from mmengine.config import Config
from mmpretrain.structures import DataSample

from mmfocus.registry import MODELS


def build_model(path: str, **over):
    """``MODELS.build`` of the config's ``model``, keys in ``over``
    replaced."""
    cfg = Config.fromfile(path)
    for k, v in over.items():
        cfg.model[k] = v
    return MODELS.build(cfg.model)


def label_samples(n: int = 4):
    """``n`` data samples with alternating labels 0, 1, 0, ..."""
    return [DataSample().set_gt_label(i % 2) for i in range(n)]
