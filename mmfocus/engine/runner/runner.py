# Copyright (c) mmfocus contributors.
"""The mmengine Runner with DataLoader workers that exit with it."""
from mmengine.runner import Runner

from mmfocus.registry import RUNNERS
from mmfocus.utils.workers import exit_workers_with_parent


@RUNNERS.register_module()
class MMFocusRunner(Runner):
    """mmengine's :class:`~mmengine.runner.Runner` whose DataLoader workers
    exit when the training (or test) process dies, even by ``kill -9``.

    Every loader the runner builds (train, val, test) gets
    :class:`mmfocus.utils.workers.ExitWithParent` around the
    ``worker_init_fn`` mmengine gives it, so mmengine's per-worker seeding
    (``num_workers * rank + worker_id + seed``) and a configured
    ``worker_init_fn`` still run. Nothing else differs from ``Runner``;
    :func:`mmfocus.apis.build_runner` uses it unless the config sets
    ``runner_type``.
    """

    @staticmethod
    def build_dataloader(*args, **kwargs):
        """:meth:`mmengine.runner.Runner.build_dataloader`, then
        :func:`~mmfocus.utils.workers.exit_workers_with_parent`."""
        return exit_workers_with_parent(
            Runner.build_dataloader(*args, **kwargs))
