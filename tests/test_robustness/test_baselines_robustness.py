"""The robustness study (Table IV) accepts the baseline detectors: each
tiny demo config with random weights, one perturbation at one level, on
tiny demo-format data."""
import math
import os.path as osp

import pytest
import torch

from mmfocus.apis import init_model
from mmfocus.experiments.robustness import run_robustness

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    'xception': 'configs/xception/xception-tiny_demo-sbi.py',
    'gffd': 'configs/gffd/gffd-tiny_demo-sbi.py',
    'face-xray': 'configs/face-xray/face-xray_hrnet-tiny_demo-sbi.py',
    'uia-vit': 'configs/uia-vit/uia-vit_mini_demo-sbi.py',
    'madd': 'configs/madd/madd-efb0_demo-sbi.py',
}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_robustness_runs_on_a_baseline(name, tiny_demo_data, tmp_path):
    cfg = osp.join(ROOT, CONFIGS[name])
    torch.manual_seed(0)
    ckpt = str(tmp_path / f'{name}.pth')
    torch.save({'meta': {}, 'state_dict': init_model(cfg).state_dict()},
               ckpt)
    res = run_robustness(
        cfg, ckpt, types=['noise'], levels=[2], out_dir=str(tmp_path / 'r'),
        device='cpu', log=lambda *a: None, cfg_options=[
            f'test_dataloader.dataset.data_root={tiny_demo_data}',
            'test_dataloader.num_workers=0',
            'test_dataloader.persistent_workers=False'])
    assert math.isfinite(res['clean_auc'])
    assert math.isfinite(res['types']['noise']['auc']['2'])
    assert osp.isfile(str(tmp_path / 'r' / 'robustness.md'))
