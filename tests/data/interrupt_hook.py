"""A test-only hook that simulates a crash after a given iteration (after
the checkpoint of that iteration has been written)."""
from mmengine.hooks import Hook

from mmfocus.registry import HOOKS


@HOOKS.register_module()
class InterruptAtIterHook(Hook):
    priority = 'LOWEST'

    def __init__(self, at: int = 2):
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            raise SystemExit(17)
