"""tools/analysis/robustness.py on the tiny FoCus (random weights) and tiny
demo-format data: 2 types x 2 levels, Markdown + JSON + PNG."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import cv2
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
TOOL = osp.join('tools', 'analysis', 'robustness.py')


def _run(args):
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    env.pop('MMFOCUS_DEBUG', None)
    return subprocess.run([sys.executable, TOOL] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    from mmfocus.apis import init_model
    torch.manual_seed(0)
    model = init_model(CFG)
    path = str(tmp_path_factory.mktemp('ckpt') / 'focus_tiny.pth')
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return path


def test_robustness_tool_table_json_plot(ckpt, tiny_demo_data, tmp_path):
    out = str(tmp_path / 'robust')
    args = [CFG, ckpt, '--types', 'blur', 'block', '--levels', '1', '3',
            '--out-dir', out, '--device', 'cpu', '--cfg-options',
            f'test_dataloader.dataset.data_root={tiny_demo_data}']
    proc = _run(args)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # a progress bar over the 1 + 2 x 2 test passes, with rate and ETA
    assert 'robustness' in proc.stderr and '5/5' in proc.stderr
    assert 'test/s' in proc.stderr or 's/test' in proc.stderr
    assert f'wrote {osp.join(out, "robustness.json")}' in proc.stdout
    res = json.load(open(osp.join(out, 'robustness.json')))
    assert res['levels'] == [1, 3]
    assert list(res['types']) == ['blur', 'block']
    assert res['types']['blur']['params'] == {'1': 7, '3': 13}
    assert res['types']['block']['params'] == {'1': 16, '3': 48}
    assert 0 <= res['clean_auc'] <= 100
    for t in ('blur', 'block'):
        aucs = res['types'][t]['auc']
        assert set(aucs) == {'1', '3'}
        assert all(math.isfinite(v) and 0 <= v <= 100 for v in aucs.values())
        assert res['types'][t]['mean_auc'] == pytest.approx(
            (aucs['1'] + aucs['3']) / 2)
    assert res['mean_auc'] == pytest.approx(
        (res['types']['blur']['mean_auc'] +
         res['types']['block']['mean_auc']) / 2)
    md = open(osp.join(out, 'robustness.md')).read()
    assert '| Clean |' in md and '| Blur |' in md and '| Block |' in md
    assert f"{res['types']['blur']['mean_auc']:.2f}" in md
    img = cv2.imread(osp.join(out, 'robustness.png'))
    assert img is not None and img.shape[0] > 100

    # --no-progress silences the bar
    quiet = _run(args[:2] + ['--types', 'blur', '--levels', '1'] + args[6:]
                 + ['--overwrite', '--no-progress'])
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert '2/2' not in quiet.stderr and 'test/s' not in quiet.stderr
    assert 'blur level 1: AUC' in quiet.stdout

    # nothing is overwritten silently
    proc = _run(args)
    assert proc.returncode == 1
    assert 'error:' in proc.stderr and 'robustness.json' in proc.stderr


def test_perturbation_inserted_after_loadface():
    from mmengine.config import Config
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
    try:
        import robustness
    finally:
        sys.path.pop(0)
    cfg = Config.fromfile(CFG)
    step = dict(type='DeeperForensicsPerturbation', kind='noise', level=2)
    dl = robustness.perturbed_dataloader_cfg(cfg, step)
    types = [t['type'] for t in dl['dataset']['pipeline']]
    assert types[:2] == ['LoadFace', 'DeeperForensicsPerturbation']
    # the config itself is untouched
    assert 'DeeperForensicsPerturbation' not in [
        t['type'] for t in cfg.test_dataloader.dataset.pipeline]
    cfg.test_dataloader.dataset.pipeline = [dict(type='PackFaceInputs')]
    with pytest.raises(KeyError, match='LoadFace'):
        robustness.perturbed_dataloader_cfg(cfg, step)
