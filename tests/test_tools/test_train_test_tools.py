"""tools/train.py, tools/test.py, resume and 2-process CPU DDP on a tiny
FoCus and tiny demo-format data (subprocesses, as a user runs them)."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + os.pathsep + osp.join(ROOT, 'tests', 'data')
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    env.pop('MMFOCUS_DEBUG', None)
    return env


def _data_opts(root):
    return [f'{k}_dataloader.dataset.data_root={root}'
            for k in ('train', 'val', 'test')]


def run_tool(args, check=True, timeout=600):
    proc = subprocess.run([sys.executable] + args, cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


@pytest.fixture(scope='module')
def trained(tiny_demo_data, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('train'))
    run_tool(['tools/train.py', CFG, '--work-dir', work, '--cfg-options'] +
             _data_opts(tiny_demo_data))
    return work


def test_train_writes_checkpoints_flops_and_logs(trained):
    assert osp.isfile(osp.join(trained, 'iter_4.pth'))
    flops = json.load(open(osp.join(trained, 'flops.json')))
    assert flops['flops'] > 0 and flops['params'] > 0
    # the whole two-branch model is counted
    names = ' '.join(flops['by_module'])
    assert 'backbones.rgb' in names and 'backbones.sobel' in names
    assert 'cl_neck' in names
    logs = glob.glob(osp.join(trained, '*', 'vis_data', 'scalars.json'))
    assert logs
    lines = [json.loads(x) for x in open(logs[0])]
    assert any('loss_fused' in x for x in lines)
    assert any('forgery/auc' in x for x in lines)  # validation ran


def test_test_tool_metrics_maps_and_predictions(trained, tiny_demo_data,
                                                tmp_path):
    out = str(tmp_path / 'preds.json')
    work = str(tmp_path / 'test')
    proc = run_tool(['tools/test.py', CFG, osp.join(trained, 'iter_4.pth'),
                     '--work-dir', work, '--out', out, '--cfg-options'] +
                    _data_opts(tiny_demo_data))
    text = proc.stdout + proc.stderr
    assert 'forgery/auc' in text and 'map/paired_auc' in text
    preds = json.load(open(out))
    ann = json.load(open(osp.join(tiny_demo_data, 'test.json')))
    assert len(preds) == len(ann['data_list'])
    assert all(0 <= p['fake_score'] <= 1 for p in preds)
    raws = glob.glob(osp.join(work, 'maps', 'test', 'raw', '*.png'))
    overlays = glob.glob(osp.join(work, 'maps', 'test', 'overlay', '*.jpg'))
    assert len(raws) == len(preds) == len(overlays)
    raw = cv2.imread(raws[0], cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.shape == (32, 32)
    # an existing --out is not overwritten silently
    proc = run_tool(['tools/test.py', CFG, osp.join(trained, 'iter_4.pth'),
                     '--work-dir', work, '--out', out, '--cfg-options'] +
                    _data_opts(tiny_demo_data), check=False)
    assert proc.returncode == 1 and 'preds.json' in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_resume_after_interruption_matches_uninterrupted(
        tiny_demo_data, tmp_path):
    opts = _data_opts(tiny_demo_data) + ['train_cfg.val_interval=100']
    full = str(tmp_path / 'full')
    run_tool(['tools/train.py', CFG, '--work-dir', full, '--cfg-options'] +
             opts)
    part = str(tmp_path / 'part')
    crash_cfg = tmp_path / 'crash_cfg.py'
    crash_cfg.write_text(
        f"_base_ = ['{CFG}']\n"
        "custom_imports = dict(imports=['mmfocus', 'interrupt_hook'],\n"
        "                      allow_failed_imports=False)\n"
        "custom_hooks = [\n"
        "    dict(type='FlopsProfileHook', input_shape=None),\n"
        "    dict(type='ManipulationMapHook', out_dir='maps'),\n"
        "    dict(type='RNGStateHook'),\n"
        "    dict(type='InterruptAtIterHook', at=2)]\n")
    crash = run_tool(['tools/train.py', str(crash_cfg), '--work-dir', part,
                      '--cfg-options'] + opts, check=False)
    assert crash.returncode == 17, crash.stderr[-2000:]
    assert osp.isfile(osp.join(part, 'iter_2.pth'))
    assert not osp.isfile(osp.join(part, 'iter_4.pth'))
    # training again into the same work dir without --resume is refused
    again = run_tool(['tools/train.py', CFG, '--work-dir', part,
                      '--cfg-options'] + opts, check=False)
    assert again.returncode == 1 and '--resume' in again.stderr
    run_tool(['tools/train.py', CFG, '--work-dir', part, '--resume',
              '--cfg-options'] + opts)
    a = torch.load(osp.join(full, 'iter_4.pth'), weights_only=True)
    b = torch.load(osp.join(part, 'iter_4.pth'), weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    for k, v in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][k], v, rtol=0, atol=0,
                                   msg=k)


def test_bad_inputs_give_one_clear_line(trained, tiny_demo_data, tmp_path):
    ckpt = osp.join(trained, 'iter_4.pth')

    def err(args):
        proc = run_tool(args, check=False)
        assert proc.returncode == 1, proc.stderr[-2000:]
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('error:'), lines
        return lines[0]

    assert 'nope.pth' in err(['tools/test.py', CFG, 'nope.pth'])
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'garbage')
    assert 'bad.pth' in err(['tools/test.py', CFG, str(bad)])
    line = err(['tools/test.py', CFG, ckpt, '--work-dir', str(tmp_path),
                '--cfg-options', 'model.neck.k=8', 'model.head.k=8'] +
               _data_opts(tiny_demo_data))
    assert 'does not match' in line and 'iter_4.pth' in line
    line = err(['tools/train.py', CFG, '--cfg-options',
                'model.backbone.drop_path=0.2'])
    assert 'model.backbone.drop_path' in line and 'drop_path_rate' in line
    line = err(['tools/train.py', CFG, '--work-dir', str(tmp_path / 'w'),
                '--cfg-options', 'model.type=FoKus'])
    assert 'FoKus' in line
    assert 'missing.py' in err(['tools/train.py', 'missing.py'])


def test_corrupt_image_names_the_file(tiny_demo_data, trained, tmp_path):
    import shutil
    data = str(tmp_path / 'data')
    shutil.copytree(tiny_demo_data, data)
    ann = json.load(open(osp.join(data, 'test.json')))
    victim = osp.join(data, ann['data_list'][0]['img_path'])
    with open(victim, 'wb') as f:
        f.write(b'\x89PNG broken')
    proc = run_tool(['tools/test.py', CFG, osp.join(trained, 'iter_4.pth'),
                     '--work-dir', str(tmp_path / 'w'), '--cfg-options'] +
                    _data_opts(data), check=False)
    assert proc.returncode == 1
    assert osp.basename(victim) in proc.stderr.strip().splitlines()[-1]


def test_print_config_shows_merged_user_config(tmp_path):
    user = tmp_path / 'my_cfg.py'
    user.write_text(
        f"_base_ = ['{ROOT}/configs/focus/vit-s_ffpp-lq.py']\n"
        "model = dict(fused_weight=1.0, neck=dict(k=16))\n")
    proc = run_tool(['tools/misc/print_config.py', str(user),
                     '--cfg-options', 'train_cfg.max_iters=100'])
    out = proc.stdout
    assert 'fused_weight=1.0' in out and 'k=16' in out
    assert 'max_iters=100' in out and "default_scope = 'mmfocus'" in out
    assert "arch='deit-s'" in out  # inherited


def test_dist_train_two_cpu_processes(tiny_demo_data, tmp_path):
    work = str(tmp_path / 'ddp')
    env = _env()
    env['PYTHON'] = sys.executable
    env['PORT'] = str(29500 + os.getpid() % 1000)
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', CFG, '2', '--work-dir', work,
         '--cfg-options'] + _data_opts(tiny_demo_data) +
        ['train_cfg.val_interval=100'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    text = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'Distributed training: True' in text
    assert "model_wrapper_cfg = dict(device_ids=None" in text  # CPU DDP
    assert 'GPU number: 2' in text  # mmengine's name for world size


def test_dist_test_two_cpu_processes_and_demo_summary(trained, tiny_demo_data,
                                                      tmp_path):
    work = str(tmp_path / 'ddp_test')
    env = _env()
    env['PYTHON'] = sys.executable
    env['PORT'] = str(30500 + os.getpid() % 1000)
    preds = osp.join(work, 'predictions.json')
    proc = subprocess.run(
        ['bash', 'tools/dist_test.sh', CFG, osp.join(trained, 'iter_4.pth'),
         '2', '--work-dir', work, '--out', preds, '--cfg-options'] +
        _data_opts(tiny_demo_data),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ann = json.load(open(osp.join(tiny_demo_data, 'test.json')))
    # both ranks' samples are gathered: every test face exactly once
    got = sorted(osp.basename(p['img_path']) for p in json.load(open(preds)))
    want = sorted(osp.basename(e['img_path']) for e in ann['data_list'])
    assert got == want
    maps = glob.glob(osp.join(work, 'maps', 'test', 'raw', '*.png'))
    assert len(maps) == len(want)  # each rank dumps its own share
    out = run_tool(['tools/misc/demo_summary.py', work, '--train-dir',
                    trained, '--data-root', tiny_demo_data]).stdout
    assert 'NOT FaceForensics++' in out and 'paired map-AUC' in out
    assert 'bootstrap interval' in out and 'FLOPs profile' in out


def test_publish_model_strips_training_state(trained, tmp_path):
    dst = str(tmp_path / 'pub.pth')
    out = run_tool(['tools/model_converters/publish_model.py',
                    osp.join(trained, 'iter_4.pth'), dst, '--fp16']).stdout
    path = out.split('wrote ')[1].split(' (')[0]
    assert osp.basename(path).startswith('pub-') and osp.isfile(path)
    ckpt = torch.load(path, weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert all(v.dtype == torch.float16 for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    full = torch.load(osp.join(trained, 'iter_4.pth'), weights_only=True)
    assert 'optimizer' in full and 'message_hub' in full
    for k, v in full['state_dict'].items():
        torch.testing.assert_close(ckpt['state_dict'][k].float(), v.float(),
                                   atol=1e-3, rtol=1e-3)
