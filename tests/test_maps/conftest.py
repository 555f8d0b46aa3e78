"""Tiny model checkpoints for the model-based map sources.

Each is a randomly initialised tiny model saved in mmengine's checkpoint
format (:func:`maps_fixtures.save_tiny`). The linear weights are redrawn
with a larger spread than timm's 0.02 so that attention and CAM maps are
far from uniform (a test against a near-constant map would prove little).
"""
import pytest
from maps_fixtures import CARP_CFG, VIT_CFG, save_tiny


@pytest.fixture(scope='session')
def vit_ckpt(tmp_path_factory):
    return save_tiny(VIT_CFG,
                     str(tmp_path_factory.mktemp('vit') / 'vit_tiny.pth'))


@pytest.fixture(scope='session')
def carp_ckpt(tmp_path_factory):
    return save_tiny(CARP_CFG,
                     str(tmp_path_factory.mktemp('carp') / 'carp_tiny.pth'))
