import pytest
import torch


@pytest.fixture(autouse=True, scope='package')
def _one_thread():
    """Tiny convnets on a shared 2-core machine: oversubscribed intra-op
    threads make them ~50x slower; run on one thread, then restore."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
