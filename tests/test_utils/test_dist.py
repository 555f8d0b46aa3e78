"""utils.dist.init_dist: the one way the tools join a process group."""
import socket

import pytest
import torch.distributed as dist

from mmfocus.utils.dist import init_dist


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_none_and_unknown_launchers(monkeypatch):
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    assert init_dist('none') is False
    with pytest.raises(ValueError, match='not supported on CPU'):
        init_dist('mpi')


def test_pytorch_launcher_joins_a_gloo_group_once(monkeypatch):
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    for k, v in dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
                     MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(k, v)
    assert not dist.is_initialized()
    try:
        assert init_dist('pytorch') is True
        assert dist.get_backend() == 'gloo' and dist.get_world_size() == 1
        assert init_dist('pytorch') is False  # already in one
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
