# Copyright (c) mmfocus contributors.
"""Config loading and Runner building shared by tools/train.py and test.py."""
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.config import Config
from mmfocus.compat import setup_cpu_distributed
from mmfocus.engine.runner import MMFocusRunner
from mmfocus.utils import register_all_modules
from mmfocus.utils.checkpoint import check_state_dict, load_state_dict_file
from mmfocus.utils.config_index import find_config
from mmfocus.utils.config import (check_config_types, merge_cfg_options,
                                  parse_cfg_options, read_config_file)
from mmfocus.utils.resume import find_resume_checkpoint


def load_config(path: str, cfg_options: Optional[Sequence[str]] = None,
                allow_new_keys: bool = False, work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Read a config, apply ``--cfg-options`` strictly, set the work dir.

    Raises:
        FileNotFoundError: the config does not exist (neither as a file nor
            as a shipped name, see :func:`mmfocus.utils.config_index.
            find_config`).
        ConfigFileError: a syntax error in the config or a ``_base_`` file
            (``'<file>:<line>: SyntaxError: ...'``).
        KeyError: an option names a key the config does not have.
        TypeError: a value of the wrong type for the class it configures
            (naming the key, see
            :func:`mmfocus.utils.config.check_config_types`).
    """
    path = find_config(path)  # a file, or a shipped config by name
    register_all_modules(init_default_scope=False)
    cfg = read_config_file(path)
    if cfg_options:
        merge_cfg_options(cfg, parse_cfg_options(cfg_options),
                          allow_new=allow_new_keys)
    check_config_types(cfg)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    setup_cpu_distributed(cfg, launcher)
    return cfg


def resolve_resume(cfg: Config) -> List[str]:
    """Pick the checkpoint of an automatic resume (``cfg.resume`` without
    ``cfg.load_from``) before the Runner is built, and set ``cfg.load_from``.

    mmengine would read ``<work_dir>/last_checkpoint`` only, restart from
    iteration 0 without it (overwriting the checkpoints) and follow its
    absolute path out of a copied work dir. See
    :func:`mmfocus.utils.resume.find_resume_checkpoint`. With no
    checkpoint at all, ``cfg.resume`` is turned off (a fresh start).

    Returns:
        list[str]: Warnings for the log.

    Raises:
        RuntimeError: the work dir holds checkpoints, none of them complete.
    """
    if not cfg.get('resume') or cfg.get('load_from') is not None:
        return []
    hook = dict((cfg.get('default_hooks') or {}).get('checkpoint') or {})
    by_epoch = hook.get('by_epoch', True)  # CheckpointHook's default
    tmpl = hook.get('filename_tmpl') or (
        'epoch_{}.pth' if by_epoch else 'iter_{}.pth')
    work_dir = osp.abspath(cfg.work_dir)
    extra = []
    if hook.get('out_dir'):
        extra.append(osp.join(hook['out_dir'],
                              osp.basename(work_dir.rstrip(osp.sep))))
    path, warnings = find_resume_checkpoint(work_dir, tmpl, extra)
    if path is None:
        cfg.resume = False
        warnings.append(f'--resume: no checkpoint in {work_dir}; training '
                        'from scratch')
    else:
        cfg.load_from = path
    return warnings


def build_runner(cfg: Config, strict_checkpoint: Optional[str] = None):
    """Build an :class:`mmfocus.engine.MMFocusRunner` (or
    ``cfg.runner_type``).

    An automatic resume is resolved first (:func:`resolve_resume`).

    Args:
        cfg (Config): A loaded config.
        strict_checkpoint (str, optional): Check that this checkpoint fits
            the model exactly before anything runs (clear error otherwise).
    """
    from mmengine.registry import RUNNERS

    warnings = resolve_resume(cfg)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = MMFocusRunner.from_cfg(cfg)
    for msg in warnings:
        runner.logger.warning(msg)
    if strict_checkpoint is not None:
        from mmengine.model import is_model_wrapper

        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        check_state_dict(model, load_state_dict_file(strict_checkpoint),
                         source=f'checkpoint {strict_checkpoint}')
    return runner
