"""Fixtures of the map tests: a private copy of the tiny demo data,
tools/generate_maps.py in-process, and tiny model checkpoints for the
model-based map sources.

Each checkpoint is a randomly initialised tiny model whose linear weights
are redrawn with a larger spread than timm's 0.02
(:func:`maps_fixtures.spread`) so that attention and CAM maps are far from
uniform (a test against a near-constant map would prove little).
"""
import shutil

import pytest
from maps_fixtures import CARP_CFG, VIT_CFG, spread


@pytest.fixture
def data(tiny_demo_data, tmp_path):
    """A private copy of the tiny demo data (annotations are written into
    the data root)."""
    root = str(tmp_path / 'faces')
    shutil.copytree(tiny_demo_data, root)
    return root


@pytest.fixture(scope='session')
def maps_tool(load_tool):
    """``tools/generate_maps.py`` as a module."""
    return load_tool('tools/generate_maps.py')


@pytest.fixture(scope='session')
def run_maps(maps_tool):
    """``run_maps(*argv)``: the tool's ``main`` without a progress bar."""
    return lambda *argv: maps_tool.main(['--no-progress', *argv])


@pytest.fixture(scope='session')
def vit_ckpt(random_checkpoint):
    return random_checkpoint(VIT_CFG, prepare=spread)


@pytest.fixture(scope='session')
def carp_ckpt(random_checkpoint):
    return random_checkpoint(CARP_CFG, prepare=spread)
