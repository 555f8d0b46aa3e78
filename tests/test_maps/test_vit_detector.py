"""The plain ViT detector of configs/vit/ (GradCAM / ScoreCAM explain it):
built from every config, ViT-S has DeiT-S's size with a 2-class head, and
the tiny variant trains with tools/train.py, tests with tools/test.py
(ForgeryMetric) and gives GradCAM maps from its trained checkpoint."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from maps_fixtures import VIT_CFG

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# DeiT-S (timm deit_small_patch16_224): 22,050,664 parameters with its
# 1000-class head; here the head has 2 classes.
DEIT_S_2CLS = 22_050_664 - (384 * 1000 + 1000) + (384 * 2 + 2)


@pytest.mark.parametrize('name,params', [
    ('vit-s_ffpp-c40.py', DEIT_S_2CLS),
    ('vit-s_ffpp-c23.py', DEIT_S_2CLS),
    ('vit-demo_demo-sbi.py', None),
])
def test_configs_build(name, params):
    from mmfocus.apis import init_model
    cfg = osp.join(ROOT, 'configs', 'vit', name)
    model = init_model(cfg, cfg_options={'model.backbone.pretrained': None})
    n = sum(p.numel() for p in model.parameters())
    if params is not None:
        assert n == params
    # ViT-S/16 at 224 px; the demo's conv-stem 'mini' ViT at 64 px
    assert model.backbone.grid_size == ((8, 8) if 'demo' in name else
                                        (14, 14))
    assert model.head.fc.out_features == 2
    if 'c23' in name:
        assert model.cfg.train_dataloader.dataset.data_root == \
            'data/ffpp/c23'


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    return env


def _tool(*args):
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def test_train_test_and_gradcam_from_trained_checkpoint(tiny_demo_data,
                                                        tmp_path):
    data = [f'{k}_dataloader.dataset.data_root={tiny_demo_data}'
            for k in ('train', 'val', 'test')]
    work = str(tmp_path / 'work')
    _tool('tools/train.py', VIT_CFG, '--work-dir', work, '--cfg-options',
          *data)
    ckpt = osp.join(work, 'iter_4.pth')
    assert osp.isfile(ckpt)
    logs = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    lines = [json.loads(x) for x in open(logs[0])]
    assert any('loss' in x for x in lines)
    assert any('forgery/auc' in x for x in lines)  # validation ran

    out = str(tmp_path / 'preds.json')
    proc = _tool('tools/test.py', VIT_CFG, ckpt, '--work-dir',
                 str(tmp_path / 'test'), '--out', out, '--cfg-options',
                 *data)
    assert 'forgery/auc' in proc.stdout + proc.stderr
    preds = json.load(open(out))
    n = len(json.load(open(osp.join(tiny_demo_data,
                                    'test.json')))['data_list'])
    assert len(preds) == n
    assert all(0 <= p['fake_score'] <= 1 for p in preds)

    maps = str(tmp_path / 'maps')
    _tool('tools/generate_maps.py', VIT_CFG, ckpt, '--source', 'gradcam',
          '--ann', 'train.json', '--data-root', tiny_demo_data, '--out-dir',
          maps, '--out-ann', str(tmp_path / 'train_maps-gradcam.json'),
          '--no-progress')
    report = json.load(open(osp.join(maps, 'gradcam', 'report.json')))
    assert report['written'] > 0
    assert len(glob.glob(osp.join(maps, 'gradcam', '**', '*.png'),
                         recursive=True)) == report['written']
