"""The config edits the tools and the protocol share."""
from mmengine.config import Config

from mmfocus.utils.config import drop_hooks, drop_validation


def test_drop_validation_and_hooks():
    cfg = Config(dict(val_cfg=dict(type='ValLoop'), val_dataloader=dict(),
                      val_evaluator=[dict(type='ForgeryMetric')],
                      train_cfg=dict(max_iters=10, val_interval=2),
                      custom_hooks=[dict(type='A'), dict(type='B', x=1),
                                    dict(type='C')]))
    drop_validation(cfg)
    assert cfg.val_cfg is None and cfg.val_dataloader is None
    assert cfg.val_evaluator is None
    assert cfg.train_cfg.val_interval > cfg.train_cfg.max_iters
    kept = drop_hooks(cfg, ('A', 'C'))
    assert [h['type'] for h in kept] == ['B'] == [
        h['type'] for h in cfg.custom_hooks]
    assert drop_hooks(Config(dict()), ('A', )) == []
