# Copyright (c) mmfocus contributors.
"""Profile the whole model's FLOPs and parameters once, at the start."""
import os.path as osp
from typing import Sequence, Union

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmfocus.registry import HOOKS
from mmfocus.utils.io import atomic_write_json
from mmfocus.analysis.flops import build_dummy_inputs, count_flops


@HOOKS.register_module()
class FlopsProfileHook(Hook):
    """Count the whole model's FLOPs and parameters and write them to JSON.

    Before training (or before testing, when no training ran), rank 0 builds
    a dummy batch of one random image through the model's own data
    preprocessor (so every modality branch is fed), counts the whole
    forward pass with :func:`mmfocus.analysis.count_flops` (fused attention
    included; 1 multiply-add = 1 FLOP), writes
    ``<work_dir>/<out_file>`` atomically and logs the totals.

    The model's train/eval flags and the torch RNG states (CPU and CUDA) are
    restored afterwards, so training is unaffected. If counting fails (an
    op the tracer cannot handle, say), a warning is logged and the run goes
    on.

    Args:
        input_shape (int | Sequence[int], optional): ``S`` or ``(H, W)`` of
            the dummy image; None uses the model's own (a ViT's
            ``img_size``, else 224). Defaults to ``(224, 224)``.
        out_file (str): JSON file name under the work dir.
            Defaults to ``'flops.json'``.
        by_module_depth (int): Depth of the per-module breakdown.
            Defaults to 2.

    Example:
        >>> custom_hooks = [dict(type='FlopsProfileHook', input_shape=224)]
    """
    priority = 'VERY_LOW'

    def __init__(self,
                 input_shape: Union[None, int, Sequence[int]] = (224, 224),
                 out_file: str = 'flops.json',
                 by_module_depth: int = 2) -> None:
        if osp.isabs(out_file) or '..' in out_file.replace('\\', '/').split(
                '/'):
            raise ValueError(f'out_file must be relative to the work dir, '
                             f'got {out_file}')
        self.input_shape = input_shape
        self.out_file = out_file
        self.by_module_depth = by_module_depth
        self._done = False

    def before_train(self, runner) -> None:
        self._profile(runner)

    def before_test(self, runner) -> None:
        self._profile(runner)

    def _profile(self, runner) -> None:
        if self._done:
            return
        self._done = True
        if not is_main_process():
            return
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        cpu_state = torch.random.get_rng_state()
        cuda_state = torch.cuda.get_rng_state_all() \
            if torch.cuda.is_available() and torch.cuda.is_initialized() \
            else None
        try:
            result = self.profile(model)
            path = osp.join(runner.work_dir, self.out_file)
            atomic_write_json(path, result)
            runner.logger.info(
                f'FlopsProfileHook: {type(model).__name__} at input '
                f'{result["input_shape"]}: {result["flops_str"]} FLOPs '
                f'(multiply-adds, attention included), '
                f'{result["params_str"]} params ({result["params"]:,}); '
                f'per-module breakdown in {path}')
        except Exception as err:  # never stop a run for a profile
            runner.logger.warning(
                f'FlopsProfileHook: FLOP counting failed and was skipped: '
                f'{type(err).__name__}: {err}')
        finally:
            torch.random.set_rng_state(cpu_state)
            if cuda_state is not None:
                torch.cuda.set_rng_state_all(cuda_state)

    def profile(self, model: torch.nn.Module) -> dict:
        """Count ``model`` on a dummy batch (see the class docstring).

        Args:
            model (nn.Module): The unwrapped model.

        Returns:
            dict: The :func:`mmfocus.analysis.count_flops` result.
        """
        modes = {name: m.training for name, m in model.named_modules()}
        try:
            model.eval()
            with torch.no_grad():
                inputs = build_dummy_inputs(model, self.input_shape)
            return count_flops(
                model, inputs, by_module_depth=self.by_module_depth)
        finally:
            for name, m in model.named_modules():
                if name in modes:
                    m.training = modes[name]
