"""tools/analysis/modality_stats.py on a config's training data: it
counts the images and pixels it says, is reproducible per seed and prints
the filter_cfg to paste (filter_statistics itself is checked against numpy
in tests/test_models/test_modality.py)."""
import os.path as osp
import runpy

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis', 'modality_stats.py')
CFG = osp.join(ROOT, 'configs', 'focus', 'vit-demo_demo-sbi.py')


def test_tool_measures_the_training_views(tiny_demo_data, capsys):
    main = runpy.run_path(TOOL)['main']
    opts = ['--cfg-options', f'train_dataloader.dataset.data_root='
            f'{tiny_demo_data}', 'train_dataloader.batch_size=4']
    res = main([CFG, '--num-images', '6'] + opts)
    assert res['images'] == 6 and res['pixels'] == 6 * 64 * 64
    # Sobel magnitudes are non-negative, with spread
    assert all(m > 0 for m in res['mean']) and all(s > 0 for s in res['std'])
    assert "normalize='fixed'" in capsys.readouterr().out
    # the same seed gives the same numbers (augmentation and blends seeded)
    assert main([CFG, '--num-images', '6'] + opts)['mean'] == res['mean']
    with pytest.raises(ValueError, match='num-images'):
        main([CFG, '--num-images', '0'])
