"""ForgeryVisualizationHook: what it keeps, what it draws, and that the
figures reach mmengine's vis backends (TensorBoard included) from a
config during tools/test.py."""
import glob
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmfocus.engine.hooks import ForgeryVisualizationHook
from mmfocus.evaluation.functional import binary_auc
from mmfocus.visualization.report import roc_curves

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')


class _Visualizer:

    def __init__(self):
        self.images = {}

    def add_image(self, name, image, step=0):
        assert image.dtype == np.uint8 and image.ndim == 3
        self.images[name] = (image, step)


def _runner(tmp_path):
    logs = []
    return SimpleNamespace(
        work_dir=str(tmp_path), iter=5, visualizer=_Visualizer(),
        logger=SimpleNamespace(info=logs.append, warning=logs.append)), logs


def _samples(tmp_path, n=20, seed=0):
    """n samples, half fake, 2 methods, 5 videos, random scores and maps,
    each with a small face image on disk."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = i % 2
        path = str(tmp_path / f'face_{i:02d}.png')
        cv2.imwrite(path, rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
        score = float(rng.uniform(0.05, 0.95))
        ds = DataSample(metainfo=dict(
            img_path=path, video_id=f'v{label}_{i % 5 // 2}',
            method=('real' if not label else ('sbi', 'swap')[i % 4 // 2])))
        ds.set_pred_score(torch.tensor([1 - score, score]))
        ds.set_gt_label(label)
        ds.set_field(torch.rand(96, 96), 'pred_map')
        out.append(ds)
    return out


def test_hook_keeps_topk_and_draws_everything(tmp_path):
    samples = _samples(tmp_path)
    runner, logs = _runner(tmp_path)
    hook = ForgeryVisualizationHook(topk=3, map_size=32)
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, None, samples[:8])
    hook.after_test_iter(runner, 1, None, samples[8:])

    scores = np.array([float(s.pred_score[1]) for s in samples])
    labels = np.array([int(s.gt_label) for s in samples])
    names = np.array([s.img_path for s in samples])
    records, heaps = hook._gather()
    assert len(records) == len(samples)
    # independent reference: rank with numpy
    fakes = np.flatnonzero(labels == 1)
    reals = np.flatnonzero(labels == 0)
    top_fakes = names[fakes[np.argsort(-scores[fakes])][:3]]
    top_reals = names[reals[np.argsort(scores[reals])][:3]]
    wrong = np.flatnonzero((scores > 0.5) != labels.astype(bool))
    conf = np.where(labels[wrong] == 1, 1 - scores[wrong], scores[wrong])
    top_err = names[wrong[np.argsort(-conf)][:3]]
    assert [r['img_path'] for r in heaps['confident fakes']] == \
        top_fakes.tolist()
    assert [r['img_path'] for r in heaps['confident reals']] == \
        top_reals.tolist()
    assert [r['img_path'] for r in heaps['errors']] == top_err.tolist()
    assert heaps['errors'] and heaps['errors'][0]['map'].shape == (32, 32)

    # draw (the gather above did not consume the state)
    hook.after_test_epoch(runner, {})
    root = tmp_path / 'vis' / 'test'
    for name in ('roc', 'hist_class', 'hist_method', 'gallery'):
        img = cv2.imread(str(root / f'{name}.png'))
        assert img is not None and img.std() > 5, name
        sent, step = runner.visualizer.images[f'test_{name}']
        assert sent.shape == img.shape and step == 0
        # the visualizer gets RGB, the file is BGR: the same picture
        np.testing.assert_array_equal(sent[..., ::-1], img)
    assert any('4 figures of 20 samples' in str(x) for x in logs)
    # no figure of an empty val run (on_val off) and state reset
    hook.after_val_epoch(runner, {})
    assert not (tmp_path / 'vis' / 'val_iter5').exists()
    # overwrite=False refuses to replace figures of an earlier run
    hook = ForgeryVisualizationHook(topk=1, overwrite=False)
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, None, samples)
    with pytest.raises(FileExistsError):
        hook.after_test_epoch(runner, {})


def test_roc_curves_frame_and_video_auc(tmp_path):
    samples = _samples(tmp_path, n=20, seed=3)
    scores = np.array([float(s.pred_score[1]) for s in samples])
    labels = np.array([int(s.gt_label) for s in samples])
    vids = [s.video_id for s in samples]
    curves = roc_curves(scores, labels, vids)
    assert set(curves) == {'frame', 'video'}
    assert curves['frame'][2] == pytest.approx(binary_auc(scores, labels))
    # video level: mean score per video, computed here by hand
    uv = sorted(set(vids))
    v_s = np.array([scores[[v == u for v in vids]].mean() for u in uv])
    v_l = np.array([labels[[v == u for v in vids]][0] for u in uv])
    assert curves['video'][2] == pytest.approx(binary_auc(v_s, v_l))
    # one frame per video: no video level; one class: no curve at all
    assert set(roc_curves(scores, labels, [str(i) for i in range(20)])) \
        == {'frame'}
    assert roc_curves(scores, np.ones(20, int)) == {}


def test_hook_on_val_and_samples_without_maps(tmp_path):
    samples = _samples(tmp_path, n=6)
    for s in samples:
        del s.pred_map
    runner, _ = _runner(tmp_path)
    hook = ForgeryVisualizationHook(topk=2, on_val=True)
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0, None, samples)
    hook.after_val_epoch(runner, {})
    assert osp.isfile(tmp_path / 'vis' / 'val_iter5' / 'gallery.png')
    assert runner.visualizer.images['val_iter5_roc'][1] == 5


def test_tensorboard_backend_from_config_gets_the_figures(
        tiny_demo_data, tmp_path, random_checkpoint, run_tool):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    ckpt = random_checkpoint(CFG, str(tmp_path / 'tiny.pth'))
    cfg = tmp_path / 'tiny_tb.py'
    cfg.write_text(
        f"_base_ = ['{CFG}']\n"
        "visualizer = dict(vis_backends=[\n"
        "    dict(type='LocalVisBackend'),\n"
        "    dict(type='TensorboardVisBackend')])\n")
    work = str(tmp_path / 'work')
    args = ['tools/test.py', str(cfg), ckpt, '--work-dir', work, '--no-maps',
            '--cfg-options', f'test_dataloader.dataset.data_root='
            f'{tiny_demo_data}']
    run_tool(args, check=True)
    for name in ('roc', 'hist_class', 'hist_method', 'gallery'):
        assert osp.isfile(osp.join(work, 'vis', 'test', name + '.png'))
        # LocalVisBackend's copy
        assert glob.glob(osp.join(work, '*', 'vis_data', 'vis_image',
                                  f'test_{name}_0.png'))
    events = glob.glob(osp.join(work, '*', 'vis_data',
                                'events.out.tfevents.*'))
    assert len(events) == 1
    acc = EventAccumulator(events[0], size_guidance={'images': 0})
    acc.Reload()
    tags = set(acc.Tags()['images'])
    assert {'test_roc', 'test_hist_class', 'test_hist_method',
            'test_gallery'} <= tags
    roc = acc.Images('test_roc')[0]
    png = cv2.imread(osp.join(work, 'vis', 'test', 'roc.png'))
    assert (roc.height, roc.width) == png.shape[:2]


def test_gallery_tile_shows_face_true_mask_and_map(tmp_path):
    """A fake with a known mask: face | true mask | map overlay, side by
    side; a real: face | map (it has no mask)."""
    face = np.full((40, 40, 3), 90, np.uint8)
    mask = np.zeros((40, 40), np.uint8)
    mask[10:20, 10:30] = 255
    cv2.imwrite(str(tmp_path / 'f.png'), face)
    cv2.imwrite(str(tmp_path / 'm.png'), mask)
    hook = ForgeryVisualizationHook(topk=1)
    m = np.zeros((8, 8), np.float16)
    fake = hook._tile(dict(score=0.9, label=1, method='sbi-mouth',
                           img_path=str(tmp_path / 'f.png'),
                           mask_path=str(tmp_path / 'm.png'), map=m))
    assert fake['image'].shape == (40, 120, 3)
    # the middle tile is the mask, in grey levels
    np.testing.assert_array_equal(fake['image'][:, 40:80, 0], mask)
    real = hook._tile(dict(score=0.1, label=0, method='real',
                           img_path=str(tmp_path / 'f.png'),
                           mask_path=None, map=m))
    assert real['image'].shape == (40, 80, 3)
