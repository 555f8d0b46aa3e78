"""The complexity table (Table VIII): counts against hand-computed answers,
the spec checks, the outputs and the command line. No timing is asserted:
only that every model was timed in the same rounds and the ratios are
computed from them."""
import json
import os.path as osp
import runpy

import pytest
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel

from mmfocus.analysis.complexity import (check_shape, complexity_markdown,
                                         measure_complexity)
from mmfocus.apis.inference import config_input_size
from mmfocus.experiments.complexity import (load_complexity_spec,
                                            run_complexity)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class _Linear(BaseModel):
    """One linear layer on the flattened image: FLOPs = 3*H*W*out."""

    def __init__(self, hw, out=5):
        super().__init__(data_preprocessor=dict(type='ImgDataPreprocessor'))
        self.fc = nn.Linear(3 * hw * hw, out)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.fc(inputs.float().flatten(1))


def test_counts_match_hand_computed_answers():
    a, b = _Linear(8), _Linear(4, out=3)
    res = measure_complexity({'a': a, 'b': b}, {'a': (8, 8), 'b': (4, 4)},
                             batch_size=2, repeats=2, warmup=0)
    ra, rb = res['models']['a'], res['models']['b']
    assert ra['flops_per_image'] == 3 * 8 * 8 * 5
    assert rb['flops_per_image'] == 3 * 4 * 4 * 3
    assert ra['params'] == 3 * 64 * 5 + 5
    assert rb['params'] == 3 * 16 * 3 + 3
    # every model timed in the same rounds; the baseline's ratio is 1
    assert ra['infer']['n'] == rb['infer']['n'] == 2
    assert ra['ratio']['ratio'] == 1.0
    assert res['baseline'] == 'a' and res['batch_size'] == 2
    assert rb['infer']['img_s'] > 0
    md = complexity_markdown(res)
    assert '| a | 8x8 | 0.00 |' in md and 'throughput vs a' in md
    # counts only
    res = measure_complexity({'a': a}, {'a': 8}, throughput=False)
    assert 'infer' not in res['models']['a']
    assert 'throughput' not in complexity_markdown(res)


def test_bad_arguments_are_refused():
    a = _Linear(4)
    with pytest.raises(ValueError, match='no models'):
        measure_complexity({}, {})
    with pytest.raises(ValueError, match='no input shape'):
        measure_complexity({'a': a}, {})
    with pytest.raises(ValueError, match='baseline'):
        measure_complexity({'a': a}, {'a': 4}, baseline='z')
    with pytest.raises(ValueError, match='S or'):
        check_shape((1, 2, 3))
    assert check_shape(7) == (7, 7) and check_shape([5, 6]) == (5, 6)


def test_spec_checks(tmp_path):
    focus = osp.join(ROOT, 'configs', 'focus', 'vit-demo_demo-sbi.py')
    with pytest.raises(ValueError, match='no "models"'):
        load_complexity_spec(dict(models=[]))
    with pytest.raises(ValueError, match='unknown keys'):
        load_complexity_spec(dict(models=[dict(name='a', config=focus,
                                               size=3)]))
    with pytest.raises(ValueError, match='duplicate'):
        load_complexity_spec(dict(models=[dict(name='a', config=focus)] * 2))
    with pytest.raises(ValueError, match='baseline'):
        load_complexity_spec(dict(models=[dict(name='a', config=focus)],
                                  baseline='b'))
    with pytest.raises(FileNotFoundError):
        load_complexity_spec(str(tmp_path / 'none.py'))
    with pytest.raises(FileNotFoundError, match='config not found'):
        run_complexity(dict(models=[dict(name='a', config='nope.py')]),
                       out_dir=str(tmp_path))
    assert config_input_size(Config.fromfile(focus)) == (64, 64)


@pytest.mark.parametrize('name', ['complexity_table8.py',
                                  'complexity_demo.py'])
def test_shipped_specs_name_existing_configs(name):
    spec = load_complexity_spec(osp.join(ROOT, 'configs', 'experiments',
                                         name))
    for e in spec['models']:
        assert osp.isfile(osp.join(ROOT, e['config'])), e
    names = [e['name'] for e in spec['models']]
    assert spec['baseline'] == names[0]
    assert len(names) >= 7


def test_tool_writes_table_and_refuses_to_overwrite(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    tool = osp.join(ROOT, 'tools', 'analysis', 'complexity.py')
    main = runpy.run_path(tool)['main']
    out = str(tmp_path / 'cx')
    argv = ['configs/experiments/complexity_demo.py', '--only', 'FoCus-demo',
            'ViT (mini)', '--out-dir', out, '--repeats', '1', '--warmup',
            '0', '--batch-size', '2']
    res = main(argv)
    with open(osp.join(out, 'complexity.json')) as f:
        saved = json.load(f)
    assert list(saved['models']) == ['FoCus-demo', 'ViT (mini)']
    # FoCus-demo: 2.04 M parameters (configs/focus/README.md)
    assert 2.0e6 < saved['models']['FoCus-demo']['params'] < 2.1e6
    assert saved['models']['FoCus-demo']['input_shape'] == [64, 64]
    assert saved['environment']['device'] == 'cpu'
    md = open(osp.join(out, 'complexity.md')).read()
    assert 'FoCus-demo' in md and 'tools/analysis/complexity.py' in md
    assert res['outputs']['md'] == osp.join(out, 'complexity.md')
    with pytest.raises(FileExistsError, match='--force'):
        main(argv)
    main(argv + ['--force', '--no-throughput'])
    with open(osp.join(out, 'complexity.json')) as f:
        assert 'infer' not in json.load(f)['models']['FoCus-demo']
    with pytest.raises(ValueError, match='--only'):
        main(argv[:1] + ['--only', 'nobody', '--out-dir', out, '--force'])


def test_focus_demo_row_counts_both_branches():
    # configs/focus/README.md: FoCus-demo has 2.04 M parameters and
    # 150.5 M FLOPs at 64 px, both ViT branches counted
    from mmfocus.apis import init_model
    cfg = osp.join(ROOT, 'configs', 'focus', 'vit-demo_demo-sbi.py')
    model = init_model(cfg, None)
    res = measure_complexity({'f': model}, {'f': (64, 64)},
                             throughput=False)['models']['f']
    assert round(res['flops_per_image'] / 1e6, 1) == 150.5
    one = sum(p.numel() for p in model.backbones['rgb'].parameters())
    assert res['params'] > 2 * one
