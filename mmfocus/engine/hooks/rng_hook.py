# Copyright (c) mmfocus contributors.
"""Save and restore RNG states so that a resumed run continues exactly."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmfocus.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Store python/numpy/torch(/cuda) RNG states in every checkpoint and
    restore them on resume.

    mmengine re-seeds at start and fast-forwards the data loader on resume,
    but the main process' RNG (Gumbel noise of the CL neck, stochastic depth)
    would restart from the seed; with this hook an interrupted-then-resumed
    run reproduces the uninterrupted one.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state(),
        )
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        # Only a resume continues the random streams; load_from (weights
        # only) starts them from the seed as usual.
        if not state or not getattr(runner, '_resume', False):
            return
        random.setstate(_to_tuple(state['python']))
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available() and \
                len(state['cuda']) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state['cuda'])


def _to_tuple(x):
    return tuple(_to_tuple(v) for v in x) if isinstance(x, list) else x
