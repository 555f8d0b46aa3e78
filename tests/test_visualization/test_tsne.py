"""t-SNE of pre-logit features (Fig. 9): the features are what each model's
classification head takes (checked by applying the head to them), equal for
equal inputs; the tool writes a PNG of the asked size and one embedding row
per sample whose labels and methods are the annotation's; the embedding is
sklearn's TSNE with the given settings."""
import json
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOCUS_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
MULTITASK_CFG = osp.join(ROOT, 'tests', 'test_visualization',
                         'multitask_tiny.py')
TOOL = 'tools/visualization/tsne.py'


def _batch(model, size=32):
    """Preprocessed batch of 3 faces: the first two identical."""
    g = torch.Generator().manual_seed(1)
    a = torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
    b = torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
    return model.data_preprocessor(dict(inputs=[a, a.clone(), b]),
                                   False)['inputs']


def _check_equal_rows(feat):
    """Rows 0 and 1 (the same face) agree, row 2 (another) does not.

    Relative to the feature norm: CPU kernels round each batch row a little
    differently, and a random-weight EfficientNet amplifies that to ~1e-2
    in single elements (~1e-5 of the norm).
    """
    assert feat.ndim == 2 and feat.shape[0] == 3
    scale = feat[0].norm()
    assert (feat[0] - feat[1]).norm() <= 1e-3 * scale
    assert not torch.allclose(feat[0], feat[2])


def test_multitask_pre_logits_feed_the_classifier(multitask_ckpt):
    from mmfocus.apis import init_model
    from mmfocus.apis.figures import pre_logits
    model = init_model(MULTITASK_CFG, multitask_ckpt)
    x = _batch(model)
    with torch.no_grad():
        feat = pre_logits(model, x)
        logits, _ = model(x, mode='tensor')
        assert feat.shape == (3, model.fc.in_features)
        _check_equal_rows(feat)
        torch.testing.assert_close(model.fc(feat), logits.float())


@pytest.mark.parametrize('variant', ['cl', 'rgb-only'])
def test_focus_pre_logits_feed_the_prediction_head(variant):
    from mmfocus.apis import init_model
    from mmfocus.apis.figures import pre_logits
    opts = None
    if variant == 'rgb-only':  # no CL: the CAR head's max-pooled input
        opts = {'model.modalities': ('rgb', ), 'model.cl_neck': None}
    torch.manual_seed(0)
    model = init_model(FOCUS_CFG, cfg_options=opts)
    x = _batch(model)
    with torch.no_grad():
        feat = pre_logits(model, x)
        logits, _ = model(x, mode='tensor')
        _check_equal_rows(feat)
        if variant == 'cl':
            assert feat.shape == (3, model.cl_head.in_channels)
            torch.testing.assert_close(model.cl_head((feat, )),
                                       logits.float())
        else:
            head = model.heads['rgb']
            assert feat.shape == (3, head.num_classes * head.k)
            # z_c = mean_j max_{h,w} F'[c, j] (Eq. 2-3)
            torch.testing.assert_close(
                feat.view(3, head.num_classes, head.k).mean(-1),
                logits.float())


def test_run_tsne_is_sklearn_tsne_with_the_settings():
    from sklearn.manifold import TSNE

    from mmfocus.visualization.tsne import run_tsne
    x = np.random.default_rng(0).normal(size=(13, 6)).astype(np.float32)
    notes = []
    res = run_tsne(x, perplexity=30., seed=3, log=notes.append)
    assert res['perplexity'] == pytest.approx(4.0)  # (13 - 1) / 3
    assert notes and 'too large' in notes[0]
    ref = TSNE(n_components=2, perplexity=4.0, init='pca',
               learning_rate='auto', random_state=3).fit_transform(
                   x.astype(np.float64))
    np.testing.assert_allclose(res['embedding'], ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match='at least 4'):
        run_tsne(x[:3])


@pytest.fixture
def two_method_data(tiny_demo_data, tmp_path):
    """The tiny demo data with every other fake relabelled ``method='x'``,
    so that the plot has two manipulation methods."""
    root = str(tmp_path / 'faces')
    shutil.copytree(tiny_demo_data, root)
    with open(osp.join(root, 'test.json')) as f:
        ann = json.load(f)
    fakes = [e for e in ann['data_list'] if e['gt_label'] == 1]
    for e in fakes[::2]:
        e['method'] = 'x'
    with open(osp.join(root, 'test.json'), 'w') as f:
        json.dump(ann, f)
    return root


def test_tsne_tool_writes_plot_and_embedding(two_method_data, focus_ckpt,
                                            tmp_path, run_tool):
    ann = osp.join(two_method_data, 'test.json')
    out = str(tmp_path / 'tsne' / 'focus.png')
    args = [
        TOOL, FOCUS_CFG, focus_ckpt, '--dataset', ann, '--out', out,
        '--max-samples', '20', '--perplexity', '5', '--seed', '0',
        '--device', 'cpu', '--fig-size', '4', '3', '--dpi', '50',
        '--cfg-options', 'test_dataloader.batch_size=8'
    ]
    proc = run_tool(args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    img = cv2.imread(out)
    assert img.shape == (150, 200, 3)  # 4 x 3 inches at 50 dpi
    emb = np.load(out[:-4] + '.npz')
    assert emb['embedding'].shape == (20, 2)
    assert np.isfinite(emb['embedding']).all()
    assert emb['features'].shape == (20, 64)  # the tiny ViT's D
    with open(ann) as f:
        by_path = {osp.join(two_method_data, e['img_path']): e
                   for e in json.load(f)['data_list']}
    paths = [str(p) for p in emb['img_paths']]
    assert len(set(paths)) == 20
    assert [by_path[p]['gt_label'] for p in paths] == emb['labels'].tolist()
    assert [by_path[p]['method'] for p in paths] == \
        [str(m) for m in emb['methods']]
    # the demo data's methods (whole-face 'sbi', local 'sbi-<region>')
    # and the fixture's relabelled 'x'
    methods = {str(m) for m in emb['methods']}
    assert {'real', 'x'} <= methods
    assert all(m in ('real', 'x', 'sbi') or m.startswith('sbi-')
               for m in methods)
    with open(out[:-4] + '.json') as f:
        meta = json.load(f)
    assert meta['num_samples'] == 20 and meta['perplexity'] == 5.0
    np.testing.assert_allclose([[p['x'], p['y']] for p in meta['points']],
                               emb['embedding'], rtol=1e-6)


def test_tsne_tool_multitask_in_process(tiny_demo_data, multitask_ckpt,
                                        tmp_path, tool):
    """The evaluation model of Fig. 4, every test sample, in-process."""
    out = str(tmp_path / 'mt.png')
    res = tool('tsne').main([
        MULTITASK_CFG, multitask_ckpt, '--dataset',
        osp.join(tiny_demo_data, 'test.json'), '--out', out, '--device',
        'cpu', '--perplexity', '5', '--no-progress'
    ])
    with open(osp.join(tiny_demo_data, 'test.json')) as f:
        n = len(json.load(f)['data_list'])
    emb = np.load(res['embedding'])
    assert emb['embedding'].shape == (n, 2)
    assert emb['features'].shape == (n, 1280)  # EfficientNet-B0's last stage
    assert cv2.imread(out).shape == (900, 900, 3)  # 6 x 6 in at 150 dpi
    with pytest.raises(FileExistsError,
                       match=re.escape(f'output exists: {out}')):
        tool('tsne').main([MULTITASK_CFG, multitask_ckpt, '--out', out])
