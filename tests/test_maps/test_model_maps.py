"""The model-based map sources (gradcam, scorecam, attention) through
tools/generate_maps.py on tiny demo data, each against a direct computation
on a tiny random model: GradCAM from autograd (gradient of the fake logit
wrt the last block's norm1 tokens), ScoreCAM from masked forward passes,
and the -CARP attention from the last block's qkv weights."""
import json
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from maps_fixtures import CARP_CFG, VIT_CFG, read_entries, read_map

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MEAN = np.array([123.675, 116.28, 103.53], np.float32)
STD = np.array([58.395, 57.12, 57.375], np.float32)
TOL = 1 / 255 + 1e-4  # 8-bit PNG quantisation


def _input(img, size=32):
    """The ViT's input, by hand: area-resize, BGR->RGB, ImageNet norm."""
    x = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    x = (x[..., ::-1].astype(np.float32) - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def _minmax(cam):
    """pytorch_grad_cam's per-image scaling: (x - min) / (max + 1e-7)."""
    cam = cam - cam.flatten(1).min(1)[0].view(-1, 1, 1)
    return cam / (cam.flatten(1).max(1)[0].view(-1, 1, 1) + 1e-7)


def _cam_scale(cam, size):
    """pytorch_grad_cam: normalise on the grid, resize bilinearly to the
    input, normalise again there."""
    return _minmax(_up(_minmax(cam), size))


def _up(m, size):
    return F.interpolate(m[:, None], size=size, mode='bilinear',
                         align_corners=False)[:, 0]


def _tokens_of(model, x):
    """(logits, norm1 output of the last block (B, 1 + N, D))."""
    acts = {}
    layer = model.backbone.blocks[-1].norm1
    handle = layer.register_forward_hook(lambda m, i, o: acts.update(a=o))
    try:
        logits = model(x, mode='tensor')
    finally:
        handle.remove()
    return logits, acts['a']


def gradcam_reference(model, x):
    logits, a = _tokens_of(model, x)
    (g, ) = torch.autograd.grad(logits[:, 1].sum(), a)
    A, G = a[:, 1:].detach(), g[:, 1:]  # class token dropped: (B, N, D)
    w = G.mean(dim=1, keepdim=True)  # channel weight = mean over positions
    gh, gw = model.backbone.grid_size
    cam = F.relu((A * w).sum(-1)).view(-1, gh, gw)
    return _cam_scale(cam, x.shape[-2:])


def scorecam_reference(model, x):
    with torch.no_grad():
        _, a = _tokens_of(model, x)
        gh, gw = model.backbone.grid_size
        A = a[:, 1:].transpose(1, 2).reshape(len(x), -1, gh, gw)
        masks = F.interpolate(A, size=x.shape[-2:], mode='bilinear',
                              align_corners=True)
        lo = masks.flatten(2).min(-1)[0][..., None, None]
        hi = masks.flatten(2).max(-1)[0][..., None, None]
        masks = (masks - lo) / (hi - lo + 1e-8)
        cams = []
        for b in range(len(x)):
            masked = x[b:b + 1] * masks[b][:, None]  # (D, 3, H, W)
            w = model(masked, mode='tensor')[:, 1].softmax(0)
            cams.append(F.relu((w[:, None, None] * A[b]).sum(0)))
    return _cam_scale(torch.stack(cams), x.shape[-2:])


def _check_outputs(summary, out_dir, source, data, reference):
    """Every fake's PNG against ``reference(img) -> (h, w)``; reals none."""
    new = read_entries(summary['out_ann'])
    n_fake, spread = 0, []
    for e in new:
        png = osp.join(out_dir, source, e['img_path'] + '.png')
        if e['gt_label'] == 0:
            assert e['mask_path'] is None and not osp.exists(png)
            continue
        n_fake += 1
        # written relative to the data root (as the converters do)
        assert not osp.isabs(e['mask_path'])
        assert osp.abspath(osp.join(data, e['mask_path'])) == \
            osp.abspath(png)
        img = cv2.imread(osp.join(data, e['img_path']))
        ref = reference(img)
        got = read_map(png)
        assert got.shape == img.shape[:2] == ref.shape
        np.testing.assert_allclose(got, ref, atol=TOL, err_msg=e['img_path'])
        spread.append(ref.max() - ref.min())
    assert n_fake > 0 and summary['written'] == n_fake
    # The maps are not trivial: normalised, not constant.
    assert max(spread) > 0.9
    return new


@pytest.mark.parametrize('source', ['gradcam', 'scorecam'])
def test_cam_source_matches_hand_computation(source, tiny_demo_data,
                                             tmp_path, vit_ckpt, run_maps):
    """GradCAM against autograd, ScoreCAM against masked forward passes (the
    model given positionally for one, with --config/--checkpoint for the
    other)."""
    from mmfocus.apis import init_model
    model_args, ref_fn, extra = {
        'gradcam': ([VIT_CFG, vit_ckpt], gradcam_reference,
                    ['--batch-size', '3']),
        'scorecam': (['--config', VIT_CFG, '--checkpoint', vit_ckpt],
                     scorecam_reference, ['--score-batch-size', '7']),
    }[source]
    out_dir = str(tmp_path / 'maps')
    summary = run_maps(*model_args, '--source', source, '--ann', 'val.json',
                       '--data-root', tiny_demo_data, '--out-dir', out_dir,
                       '--out-ann', str(tmp_path / f'{source}.json'), *extra)
    model = init_model(VIT_CFG, vit_ckpt)

    def reference(img):
        m = ref_fn(model, _input(img))
        return _up(m, img.shape[:2])[0].numpy()

    _check_outputs(summary, out_dir, source, tiny_demo_data, reference)
    meta = json.load(open(summary['out_ann']))['metainfo']
    assert meta['target_maps']['source'] == source


def test_cam_maps_shape_range_and_constant_classifier(tiny_demo_data,
                                                      vit_ckpt):
    """A classifier blind to its input scores every masked image alike, so
    ScoreCAM's channel weights are uniform: the map is the normalised
    ReLU of the mean activation."""
    from mmfocus.apis import init_model
    from mmfocus.apis.map_sources import cam_maps
    model = init_model(VIT_CFG, vit_ckpt)
    ann = read_entries(osp.join(tiny_demo_data, 'test.json'))
    imgs = [cv2.imread(osp.join(tiny_demo_data, e['img_path']))
            for e in ann[:9]]
    for method in ('gradcam', 'scorecam'):
        maps = cam_maps(model, imgs, method=method, batch_size=4)
        assert len(maps) == 9
        for m in maps:
            assert m.shape == (32, 32) and m.dtype == np.float32
            # normalised to [0, 1]; all zeros where ReLU left no positive
            # evidence for the fake class (documented in cam_maps)
            assert 0 <= m.min() and m.max() <= 1
            assert m.max() > 0.99 or not m.any()
        assert any(m.max() > 0.99 for m in maps), method
    with torch.no_grad():
        model.head.fc.weight.zero_()
        model.head.fc.bias.copy_(torch.tensor([0.3, -0.2]))
    maps = cam_maps(model, imgs, method='scorecam')
    for img, m in zip(imgs, maps):
        with torch.no_grad():
            _, a = _tokens_of(model, _input(img))
        cam = F.relu(a[0, 1:].mean(-1)).view(1, 4, 4)
        ref = _cam_scale(cam, (32, 32))[0].numpy()
        np.testing.assert_allclose(m, ref, atol=1e-5)
    # GradCAM of a blind classifier: zero gradients, an all-zero map.
    for m in cam_maps(model, imgs, method='gradcam'):
        assert not m.any()
    with pytest.raises(ValueError, match='method'):
        cam_maps(model, imgs, method='gradcam++')
    with pytest.raises(ValueError, match='no module'):
        cam_maps(model, imgs, target_layer='backbone.blocks.9.norm1')


def test_vit_reshape_transform():
    from mmfocus.maps import vit_reshape_transform
    tokens = torch.arange(2 * 7 * 3, dtype=torch.float32).view(2, 7, 3)
    out = vit_reshape_transform((2, 3))(tokens)
    assert out.shape == (2, 3, 2, 3)
    # patch (row 1, col 2) is token 1 + 5; channel c.
    torch.testing.assert_close(out[1, 2, 1, 2], tokens[1, 6, 2])
    with pytest.raises(ValueError, match='tokens'):
        vit_reshape_transform((3, 3))(tokens)


def _last_block_attention(bb, x_in):
    """Class-token row of softmax(q k^T / sqrt(d)) from the qkv weights,
    mean over heads, patches only: (B, N)."""
    blk = bb.blocks[-1]
    D, H = x_in.shape[-1], bb.num_heads
    d = D // H
    xn = F.layer_norm(x_in, (D, ), blk.norm1.weight, blk.norm1.bias,
                      blk.norm1.eps)
    qkv = xn @ blk.attn.qkv.weight.T + blk.attn.qkv.bias  # (B, T, 3D)
    q = qkv[:, 0, :D].reshape(-1, H, d)  # class token's queries
    k = qkv[:, :, D:2 * D].reshape(len(x_in), -1, H, d)
    logits = torch.einsum('bhd,bthd->bht', q, k) / math.sqrt(d)
    return logits.softmax(-1)[:, :, 1:].mean(1)


def test_attention_source_matches_qkv_computation(tiny_demo_data, tmp_path,
                                                  carp_ckpt, run_maps):
    from mmengine.dataset import pseudo_collate

    from mmfocus.apis import init_model
    from mmfocus.apis.inference import build_inference_pipeline
    out_dir = str(tmp_path / 'maps')
    summary = run_maps(CARP_CFG, carp_ckpt, '--source', 'attention', '--ann',
                       'val.json', '--data-root', tiny_demo_data, '--out-dir',
                       out_dir, '--out-ann', str(tmp_path / 'attention.json'))
    model = init_model(CARP_CFG, carp_ckpt)
    pipeline = build_inference_pipeline(model)

    def reference(img):
        data = model.data_preprocessor(
            pseudo_collate([pipeline(dict(img=img,
                                          img_shape=img.shape[:2]))]))
        block_in = {}
        handles = [
            model.backbones[b].blocks[-1].register_forward_pre_hook(
                lambda m, args, b=b: block_in.update({b: args[0]}))
            for b in model.branches
        ]
        with torch.no_grad():
            feats = model.extract_feat(data['inputs'])
            for h in handles:
                h.remove()
            maps = []
            for b in model.branches:
                bb = model.backbones[b]
                att = _last_block_attention(bb, block_in[b])
                att = att.view(1, *bb.grid_size)
                lo, hi = att.min(), att.max()
                maps.append((att - lo) / (hi - lo))
        mask = feats['token_mask'].float().view(1, *bb.grid_size)
        fused = mask * maps[0] + (1 - mask) * maps[1]  # Eq. 5
        m = _up(fused, (32, 32)).clamp(0, 1)
        return _up(m, img.shape[:2])[0].numpy()

    assert model.branches == ['rgb', 'sobel']
    _check_outputs(summary, out_dir, 'attention', tiny_demo_data, reference)


def test_model_source_refusals(tiny_demo_data, tmp_path, vit_ckpt,
                               carp_ckpt, maps_tool):
    common = ['--no-progress', '--ann', 'val.json', '--data-root',
              tiny_demo_data, '--out-dir', str(tmp_path / 'maps')]
    tiny_focus = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
    # attention needs the -CARP FoCus, not the CAR one ...
    with pytest.raises(ValueError, match='no-carp'):
        maps_tool.main([tiny_focus, carp_ckpt, '--source', 'attention'] +
                       common)
    # ... and GradCAM a ViT classifier, not FoCus.
    with pytest.raises(ValueError, match='ViT classifier'):
        maps_tool.main([CARP_CFG, carp_ckpt, '--source', 'gradcam'] + common)
    with pytest.raises(ValueError, match='--config'):
        maps_tool.main(['--source', 'scorecam'] + common)
    with pytest.raises(ValueError, match='not ssim'):
        maps_tool.main([VIT_CFG, vit_ckpt, '--source', 'ssim'] + common)
    with pytest.raises(SystemExit):  # two different configs
        maps_tool.parse_args([VIT_CFG, vit_ckpt, '--config', CARP_CFG] +
                             common)
    assert not osp.exists(tmp_path / 'maps')


def test_issue_command_form(tiny_demo_data, tmp_path, carp_ckpt, run_maps,
                            maps_tool):
    """``generate_maps.py <cfg> <ckpt> --dataset <ann> --out <dir>``: the
    source defaults to focus and the data root to the annotation's folder."""
    ann = osp.join(tiny_demo_data, 'val.json')
    tiny_focus = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
    out = str(tmp_path / 'maps')
    summary = run_maps(tiny_focus, carp_ckpt, '--dataset', ann, '--out', out,
                       '--batch-size', '64', '--out-ann',
                       str(tmp_path / 'focus.json'))
    assert summary['source'] == 'focus' and summary['written'] > 0
    for e in read_entries(summary['out_ann']):
        if e['gt_label'] == 1:
            assert osp.isfile(osp.join(out, 'focus', e['img_path'] + '.png'))
    with pytest.raises(SystemExit):  # no source, no config
        maps_tool.parse_args(['--dataset', ann, '--out', out])
