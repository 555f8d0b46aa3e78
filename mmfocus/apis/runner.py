# Copyright (c) mmfocus contributors.
"""Config loading and Runner building shared by tools/train.py and test.py."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction


def load_config(path: str, cfg_options: Optional[Sequence[str]] = None,
                allow_new_keys: bool = False, work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Read a config, apply ``--cfg-options`` strictly, set the work dir.

    Raises:
        FileNotFoundError: the config does not exist.
        KeyError: an option names a key the config does not have.
    """
    from mmfocus.compat import setup_cpu_distributed
    from mmfocus.utils import register_all_modules
    from mmfocus.utils.config import merge_cfg_options
    if not osp.isfile(path):
        raise FileNotFoundError(f'config not found: {path}')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(path)
    if cfg_options:
        action = DictAction(option_strings=[], dest='cfg_options')
        ns = type('NS', (), {})()
        action(None, ns, list(cfg_options))
        merge_cfg_options(cfg, ns.cfg_options, allow_new=allow_new_keys)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    setup_cpu_distributed(cfg, launcher)
    return cfg


def build_runner(cfg: Config, strict_checkpoint: Optional[str] = None):
    """Build an mmengine Runner (or ``cfg.runner_type``).

    Args:
        cfg (Config): A loaded config.
        strict_checkpoint (str, optional): Check that this checkpoint fits
            the model exactly before anything runs (clear error otherwise).
    """
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    if strict_checkpoint is not None:
        from mmengine.model import is_model_wrapper

        from mmfocus.utils.checkpoint import (check_state_dict,
                                              load_state_dict_file)
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        check_state_dict(model, load_state_dict_file(strict_checkpoint),
                         source=f'checkpoint {strict_checkpoint}')
    return runner
