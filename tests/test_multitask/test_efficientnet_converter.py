"""EfficientNet weight conversion (torchvision / timm -> mmpretrain) on
randomly initialised source models: equal outputs, clear errors."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmfocus  # noqa: F401
from mmfocus.models.converters import (backbone_kwargs_for,
                                              check_shapes,
                                              convert_efficientnet)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'model_converters',
                'tv_efficientnet_to_mmpretrain.py')
torchvision = pytest.importorskip('torchvision')
timm = pytest.importorskip('timm')


def _randomise_bn(model):
    """Non-trivial BN statistics, so that a wrong eps or a swapped BN
    shows in the outputs."""
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) * 0.5 + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=g) * 0.4 - 0.2)
    return model.eval()


def _source(kind, arch='b0'):
    torch.manual_seed(0)
    if kind == 'torchvision':
        m = getattr(torchvision.models, f'efficientnet_{arch}')()
    else:
        m = timm.create_model(kind + f'efficientnet_{arch}', pretrained=False)
    return _randomise_bn(m)


def _mmpretrain(arch, **kwargs):
    from mmpretrain.models.backbones import EfficientNet
    bb = EfficientNet(arch=arch, out_indices=(6, ), **kwargs)
    bb.eval()
    return bb


def _features(kind, model, x):
    return model.features(x) if kind == 'torchvision' \
        else model.forward_features(x)


@pytest.mark.parametrize('kind', ['torchvision', 'tf_', ''],
                         ids=['torchvision', 'timm-tf', 'timm'])
def test_converted_weights_give_equal_outputs(kind):
    src = _source(kind)
    source = 'torchvision' if kind == 'torchvision' else 'timm'
    kwargs = backbone_kwargs_for(source, tf_padding=kind == 'tf_')
    bb = _mmpretrain('b0', **kwargs)
    target = bb.state_dict()
    out, detected = convert_efficientnet(src.state_dict(), list(target))
    assert detected == source
    check_shapes(out, target)
    bb.load_state_dict(
        {
            k[len('backbone.'):]: v
            for k, v in out.items() if k.startswith('backbone.')
        },
        strict=True)
    x = torch.randn(2, 3, 67, 64)  # odd size: padding differences show
    with torch.no_grad():
        feat = bb(x)[0]
        ref = _features(kind, src, x)
        logits = feat.mean((2, 3)) @ out['head.fc.weight'].T + \
            out['head.fc.bias']
        ref_logits = src(x)
    torch.testing.assert_close(feat, ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(logits, ref_logits, rtol=1e-4, atol=1e-5)


def test_padding_and_eps_matter():
    """torchvision weights in mmpretrain's default (TF-padding, eps 1e-3)
    network do not reproduce torchvision: the kwargs are needed."""
    src = _source('torchvision')
    bb = _mmpretrain('b0')
    out, _ = convert_efficientnet(src.state_dict(), list(bb.state_dict()))
    bb.load_state_dict({
        k[9:]: v
        for k, v in out.items() if k.startswith('backbone.')
    })
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        # the stem (stride-2 3x3 conv): TF "same" pads 0/1, torchvision 1/1
        ref = src.features[0](x)
        diff = (bb.layers[0](x) - ref).abs().max()
    assert diff > ref.std()


def test_mismatched_arch_and_foreign_state_dicts_fail_clearly():
    src = _source('torchvision', 'b0')
    b1 = _mmpretrain('b1').state_dict()
    with pytest.raises(ValueError, match='blocks'):
        convert_efficientnet(src.state_dict(), list(b1))
    with pytest.raises(ValueError, match='torchvision'):
        convert_efficientnet({'fc.weight': torch.zeros(1)}, list(b1))


def test_tool_writes_a_checkpoint_the_multitask_backbone_loads(tmp_path):
    from mmfocus.models import MultiTaskDetector
    src = _source('torchvision')
    pth = str(tmp_path / 'tv_b0.pth')
    torch.save(src.state_dict(), pth)
    dst = str(tmp_path / 'b0_mm.pth')
    env = dict(os.environ,
               PYTHONPATH=ROOT,
               CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    args = [sys.executable, TOOL, pth, dst, '--arch', 'b0']
    proc = subprocess.run(args,
                          cwd=ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "'conv_cfg': None" in proc.stdout
    # published torchvision B0 count: 5,288,548
    assert '5,288,548 parameters' in proc.stdout
    again = subprocess.run(args,
                           cwd=ROOT,
                           env=env,
                           capture_output=True,
                           text=True,
                           timeout=300)
    assert again.returncode == 1 and 'refusing to overwrite' in again.stderr
    meta = torch.load(dst, weights_only=True)['meta']
    model = MultiTaskDetector(backbone=dict(type='mmpretrain.EfficientNet',
                                            arch='b0',
                                            out_indices=(2, 3, 4, 5, 6),
                                            init_cfg=dict(type='Pretrained',
                                                          prefix='backbone',
                                                          checkpoint=dst),
                                            **meta['backbone_kwargs']),
                              cls_in_channels=1280)
    model.init_weights()  # as the Runner does
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feat = model.extract_feat(x)[-1]
    torch.testing.assert_close(feat, src.features(x), rtol=1e-4, atol=1e-5)
