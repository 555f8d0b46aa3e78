"""tools/train.py and tools/test.py on the CPU demo multitask config
(tiny demo-format data, a few iterations, subprocesses as a user runs
them)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'configs', 'multitask', 'efb4-fpn_demo-sbi.py')


def _run(args):
    env = dict(os.environ,
               PYTHONPATH=ROOT,
               CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    env.pop('MMFOCUS_DEBUG', None)
    proc = subprocess.run([sys.executable] + args,
                          cwd=ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, (f'{args} failed:\n{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-3000:]}')
    return proc.stdout + proc.stderr


def test_demo_multitask_trains_and_tests(tiny_demo_data, tmp_path):
    opts = []
    for k in ('train', 'val', 'test'):
        opts += [
            f'{k}_dataloader.dataset.data_root={tiny_demo_data}',
            f'{k}_dataloader.num_workers=0',
            f'{k}_dataloader.persistent_workers=False',
            f'{k}_dataloader.batch_size=4'
        ]
    opts += [
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=3', 'param_scheduler.0.end=2',
        'param_scheduler.1.begin=2', 'param_scheduler.1.end=3',
        'param_scheduler.1.T_max=1'
    ]
    work = str(tmp_path / 'train')
    _run(['tools/train.py', CFG, '--work-dir', work, '--cfg-options'] + opts)
    assert osp.isfile(osp.join(work, 'iter_3.pth'))
    logs = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    lines = [json.loads(x) for x in open(logs[0])]
    train = [x for x in lines if 'loss_map' in x]
    assert len(train) == 3
    assert all(x['loss'] == x['loss'] and x['loss_map'] > 0 for x in train)
    assert any('map/paired_auc' in x for x in lines)  # validation ran
    text = _run([
        'tools/test.py', CFG,
        osp.join(work, 'iter_3.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options'
    ] + opts)
    assert 'forgery/auc' in text and 'map/paired_auc' in text
