"""The helpers behind the one-line errors of issue #12 item 5 / 7b:
config syntax errors located (file and line), value types checked against
the mmfocus constructors (and no shipped config refused), and checkpoint
errors that name the file without advising ``weights_only=False``, also for
loads that go through mmengine's own loader (the Runner's resume /
``load_from``)."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmfocus.utils.checkpoint import load_checkpoint_file
from mmfocus.utils.config import (ConfigFileError, check_config_types,
                                  read_config_file)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                      recursive=True) if '_base_' not in p)


def test_syntax_errors_name_file_and_line(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text('a = 1\nb = [1, 2\n')
    with pytest.raises(ConfigFileError) as e:
        read_config_file(str(bad))
    assert str(e.value).startswith(f'{bad}:2: SyntaxError: ')
    base = tmp_path / 'sub' / 'base.py'
    base.parent.mkdir()
    base.write_text('x = 1\n  y = 2\n')  # an IndentationError
    top = tmp_path / 'top.py'
    top.write_text("_base_ = ['./sub/base.py']\nz = 3\n")
    with pytest.raises(ConfigFileError) as e:
        read_config_file(str(top))
    assert str(e.value).startswith(f'{base}:2: IndentationError: ')
    assert getattr(e.value, 'located', False)  # printed without its type


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_shipped_configs_pass_the_type_check(path):
    from mmfocus.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    check_config_types(Config.fromfile(path))


def test_type_check_names_the_key():
    cfg = Config.fromfile(osp.join(ROOT, 'tests', 'data', 'focus_tiny.py'))
    check_config_types(cfg)
    cases = [
        (dict(model=dict(neck=dict(k='four'))), 'model.neck.k',
         'expects int'),
        (dict(model=dict(backbone=dict(drop_path_rate='0.1'))),
         'model.backbone.drop_path_rate', 'expects float'),
        (dict(model=dict(neck=dict(kernel_size=1.0))),
         'model.neck.kernel_size', 'got float 1.0'),
        (dict(train_dataloader=dict(dataset=dict(pipeline=[
            dict(type='LoadFace'), dict(type='ResizeFace', scale='big')]))),
         'train_dataloader.dataset.pipeline.1.scale', 'ResizeFace'),
    ]
    for change, key, words in cases:
        c = Config.fromfile(osp.join(ROOT, 'tests', 'data', 'focus_tiny.py'))
        c.merge_from_dict(change)
        with pytest.raises(TypeError) as e:
            check_config_types(c)
        assert f'config key {key}:' in str(e.value) and words in str(e.value)
    ok = Config.fromfile(osp.join(ROOT, 'tests', 'data', 'focus_tiny.py'))
    ok.merge_from_dict(dict(model=dict(backbone=dict(drop_path_rate=0))))
    check_config_types(ok)  # an int for a float is fine


def test_checkpoint_errors_name_the_file_and_never_advise_unsafe_loading(
        tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    as_json = tmp_path / 'model.json'
    as_json.write_text(json.dumps({'a': 1}))

    class Payload:
        def __reduce__(self):
            return (print, ('never',))

    evil = tmp_path / 'evil.pth'
    torch.save({'x': Payload()}, str(evil))
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': {}}, str(good))
    for load in (load_checkpoint_file,
                 lambda p: _load_checkpoint(p, map_location='cpu')):
        with pytest.raises(RuntimeError) as e:
            load(str(as_json))
        msg = str(e.value)
        assert f'{as_json}: not a PyTorch checkpoint' in msg
        assert 'weights_only' not in msg and len(msg.splitlines()) == 1
        with pytest.raises(RuntimeError) as e:
            load(str(evil))
        assert 'would import or run print' in str(e.value)
        assert 'weights_only=False' not in str(e.value)
        assert torch.equal(load(str(good))['state_dict']['w'], torch.ones(2))
