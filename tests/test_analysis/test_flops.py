# Copyright (c) mmfocus contributors.
"""FLOP counting: fused attention counted, published DeiT numbers, dict
inputs, and the get_flops tool.

References nobody here wrote: the mmpretrain DeiT metafile (FLOPs and
parameter counts), timm's models (fused and unfused attention), fvcore's own
counts of explicit matmuls, and hand formulas.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmfocus.analysis.flops import (SDPA_OPS, build_dummy_inputs,
                                    count_flops, format_flops_table,
                                    infer_input_shape, sdpa_flops)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis', 'get_flops.py')

# mmpretrain 1.2.0 configs/deit/metafile.yml (deit-small_4xb256_in1k,
# deit-tiny_4xb256_in1k). Its counter leaves out the 384x1000 (192x1000)
# classifier head that fvcore counts: 0.008 % of the total.
DEIT_S_FLOPS, DEIT_S_PARAMS = 4_607_954_304, 22_050_664
DEIT_TI_FLOPS, DEIT_TI_PARAMS = 1_258_219_200, 5_717_416


class _SDPA(nn.Module):

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


class _SDPAByHand(nn.Module):
    """The same attention with explicit matmuls (fvcore counts those)."""

    def forward(self, q, k, v):
        attn = (q @ k.transpose(-2, -1) * q.shape[-1]**-0.5).softmax(-1)
        return attn @ v


@pytest.mark.parametrize('shapes', [
    ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4)),  # 4-D, Nq != Nk, d != dv
    ((4, 6, 16), (4, 9, 16), (4, 9, 16)),  # 3-D
])
def test_sdpa_handle_matches_hand_formula(shapes):
    q, k, v = (torch.randn(s) for s in shapes)
    batch = 1
    for s in shapes[0][:-2]:
        batch *= s
    nq, d = shapes[0][-2:]
    nk, dv = shapes[2][-2:]
    expected = batch * nq * nk * d + batch * nq * nk * dv
    res = count_flops(_SDPA(), (q, k, v))
    assert res['flops'] == expected
    assert not any('scaled_dot' in op for op in res['unsupported_ops'])
    # fvcore's own count of the explicit matmuls agrees.
    assert count_flops(_SDPAByHand(), (q, k, v))['flops'] == expected
    assert sdpa_flops(*shapes) == expected


def test_sdpa_backend_ops_are_handled():
    """A direct call of a backend op is counted like the public op."""

    class Backend(nn.Module):

        def forward(self, q, k, v):
            op = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
            return op(q, k, v)[0]

    q, k, v = (torch.randn(1, 2, 6, 4) for _ in range(3))
    assert 'aten::_scaled_dot_product_flash_attention_for_cpu' in SDPA_OPS
    assert count_flops(Backend(), (q, k, v))['flops'] == 2 * (2 * 6 * 6 * 4)
    # Every listed op exists in this torch, with query/key/value first.
    schemas = {s.name: s for s in torch._C._jit_get_all_schemas()}
    for op in SDPA_OPS:
        if op in schemas:
            args = [a.name for a in schemas[op].arguments[:3]]
            assert args == ['query', 'key', 'value'], op
    assert 'aten::scaled_dot_product_attention' in schemas


def test_sdpa_flops_rejects_bad_shapes():
    with pytest.raises(ValueError, match='inconsistent'):
        sdpa_flops((1, 4, 8), (1, 5, 7), (1, 5, 8))


def test_deit_small_matches_published_numbers():
    """The one DeiT-S count (a few seconds on CPU), fused attention on."""
    timm = pytest.importorskip('timm')
    model = timm.create_model('deit_small_patch16_224', pretrained=False)
    assert model.blocks[0].attn.fused_attn  # the case fvcore under-counts
    model.train()
    res = count_flops(model, torch.zeros(1, 3, 224, 224))
    assert res['params'] == DEIT_S_PARAMS
    assert res['flops'] == pytest.approx(DEIT_S_FLOPS, rel=1e-3)
    assert res['flops_str'] == '4.608 G'
    assert res['input_shape'] == [1, 3, 224, 224]
    # the training flags are restored
    assert model.training and model.blocks[3].attn.training
    # per-module breakdown: 12 equal blocks + patch embed + norm + head
    bm = res['by_module']
    assert bm['']['flops'] == res['flops']
    parts = ['patch_embed', 'blocks', 'norm', 'fc_norm', 'head']
    assert sum(bm[p]['flops'] for p in parts if p in bm) == res['flops']
    assert len({bm[f'blocks.{i}']['flops'] for i in range(12)}) == 1
    assert 'blocks.0.attn' not in bm  # depth 2 only
    table = format_flops_table(res)
    assert 'patch_embed' in table and '4.608' in table


def test_fused_and_unfused_attention_count_the_same():
    """Attention is counted exactly once, fused or not."""
    from timm.models.vision_transformer import VisionTransformer
    kw = dict(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=4,
              num_classes=10)
    fused = VisionTransformer(**kw).eval()
    unfused = VisionTransformer(**kw).eval()
    for blk in unfused.blocks:
        blk.attn.fused_attn = False
    assert fused.blocks[0].attn.fused_attn
    x = torch.zeros(1, 3, 32, 32)
    a, b = count_flops(fused, x), count_flops(unfused, x)
    assert a['flops'] == b['flops']
    assert infer_input_shape(fused) == (32, 32)
    assert build_dummy_inputs(fused, None).shape == (1, 3, 32, 32)
    with pytest.raises(RuntimeError, match='on input .1, 3, 48, 48.'):
        count_flops(fused, torch.zeros(1, 3, 48, 48))  # names the input
    # hand count: tokens N = 16 + 1, D = 64, MLP 4D
    n, d = 17, 64
    per_block = n * d * 3 * d + n * d * d + 2 * n * d * 4 * d \
        + 2 * n * n * d  # qkv, proj, mlp, attention (QK^T + AV)
    layer_norms = (2 * 2 + 1) * 5 * n * d  # fvcore: 5 flops per element
    expected = 16 * d * 3 * 8 * 8 + 2 * per_block + layer_norms + d * 10
    assert a['flops'] == expected


class _TwoBranch(nn.Module):
    """A FoCus-like model: forward(inputs: dict, data_samples, mode)."""

    def __init__(self):
        super().__init__()
        self.rgb = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.sobel = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.head = nn.Linear(8, 2)
        self.seen_mode = None

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.seen_mode = mode
        a = self.rgb(inputs['rgb']).flatten(2).max(-1)[0]
        b = self.sobel(inputs['sobel']).flatten(2).max(-1)[0]
        return dict(logits=self.head(torch.cat([a, b], 1)), feats=[a, b])


def test_count_flops_dict_input_counts_all_branches():
    model = _TwoBranch()
    x = torch.randn(2, 3, 16, 16)
    res = count_flops(model, {'rgb': x, 'sobel': x.clone()})
    conv = 2 * 16 * 16 * 4 * 3 * 9  # batch 2
    assert res['flops'] == 2 * conv + 2 * 8 * 2
    assert model.seen_mode == 'tensor'
    assert res['by_module']['rgb']['flops'] == conv
    assert res['by_module']['sobel']['flops'] == conv
    assert res['by_module']['head'] == dict(flops=32, params=18)
    assert set(res['by_module']) == {'', 'rgb', 'sobel', 'head'}
    assert res['params'] == 2 * 108 + 18
    assert res['input_shape'] == {'rgb': [2, 3, 16, 16],
                                  'sobel': [2, 3, 16, 16]}
    json.dumps(res)  # JSON-ready


def test_build_dummy_inputs_uses_the_preprocessor():
    from mmengine.model import BaseModel, ImgDataPreprocessor

    class M(BaseModel):

        def __init__(self):
            super().__init__(data_preprocessor=ImgDataPreprocessor(
                mean=[0, 0, 0], std=[255, 255, 255]))
            self.conv = nn.Conv2d(3, 2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return self.conv(inputs)

    m = M()
    state = torch.random.get_rng_state()
    x = build_dummy_inputs(m, (20, 12))
    assert torch.equal(state, torch.random.get_rng_state())
    assert x.shape == (1, 3, 20, 12) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.5  # normalised
    assert count_flops(m, x)['flops'] == 20 * 12 * 2 * 3
    # no preprocessor: a float batch
    y = build_dummy_inputs(nn.Conv2d(3, 2, 1), 8, batch_size=2)
    assert y.shape == (2, 3, 8, 8)
    assert infer_input_shape(m) == (224, 224)  # nothing says otherwise


# --------------------------------------------------------------------------
# tools/analysis/get_flops.py
# --------------------------------------------------------------------------
TINY_MODULE = '''
import torch
from torch import nn
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmfocus.registry import MODELS


@MODELS.register_module()
class GetFlopsTestPreprocessor(BaseDataPreprocessor):
    """Stacks uint8 images; returns {'rgb': x, 'sobel': dx} like FoCus."""

    def forward(self, data, training=False):
        x = torch.stack(data['inputs']).float() / 255
        dx = torch.zeros_like(x)
        dx[..., 1:] = x[..., 1:] - x[..., :-1]
        return dict(inputs={'rgb': x, 'sobel': dx},
                    data_samples=data['data_samples'])


@MODELS.register_module()
class GetFlopsTestModel(BaseModel):

    def __init__(self, channels=4, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.rgb = nn.Conv2d(3, channels, 3, padding=1, bias=False)
        self.sobel = nn.Conv2d(3, channels, 3, padding=1, bias=False)
        self.head = nn.Linear(2 * channels, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        assert mode == 'tensor', mode
        a = self.rgb(inputs['rgb']).flatten(2).max(-1)[0]
        b = self.sobel(inputs['sobel']).flatten(2).max(-1)[0]
        return self.head(torch.cat([a, b], 1))
'''

TINY_CONFIG = '''
custom_imports = dict(imports=['getflops_tiny_model'],
                      allow_failed_imports=False)
default_scope = 'mmfocus'
model = dict(type='GetFlopsTestModel', channels=4,
             data_preprocessor=dict(type='GetFlopsTestPreprocessor'))
'''


def _run_tool(args, tmp_path):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(tmp_path), ROOT, env.get('PYTHONPATH', '')])
    env.setdefault('OMP_NUM_THREADS', '2')
    return subprocess.run([sys.executable, TOOL, *args], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def tiny_config(tmp_path):
    (tmp_path / 'getflops_tiny_model.py').write_text(TINY_MODULE)
    cfg = tmp_path / 'tiny_flops_cfg.py'
    cfg.write_text(textwrap.dedent(TINY_CONFIG))
    return cfg


def test_get_flops_tool_tiny_config(tiny_config, tmp_path):
    out = tmp_path / 'res' / 'flops.json'
    proc = _run_tool([str(tiny_config), '--shape', '20', '12', '--out',
                      str(out), '--cfg-options', 'model.channels=6'],
                     tmp_path)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    conv = 20 * 12 * 6 * 3 * 9
    assert res['flops'] == 2 * conv + 12 * 2  # both branches and the head
    assert res['by_module']['sobel']['flops'] == conv
    assert res['input_shape'] == {'rgb': [1, 3, 20, 12],
                                  'sobel': [1, 3, 20, 12]}
    assert res['params'] == 2 * 6 * 27 + 12 * 2 + 2
    assert 'scaled_dot_product_attention' in proc.stdout
    assert f'{res["flops"]:,}' in proc.stdout
    assert not [p for p in os.listdir(out.parent) if p.endswith('.tmp')]



def _load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('_get_flops_tool', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_get_flops_tool_clear_errors(tiny_config, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))  # for custom_imports
    tool = _load_tool()
    with pytest.raises(KeyError, match='model.chanels'):
        tool.main([str(tiny_config), '--cfg-options', 'model.chanels=6'])
    with pytest.raises(FileNotFoundError, match='nope.py'):
        tool.main([str(tmp_path / 'nope.py')])
    no_model = tmp_path / 'no_model.py'
    no_model.write_text('default_scope = "mmfocus"\n')
    with pytest.raises(KeyError, match='no "model"'):
        tool.main([str(no_model)])
    with pytest.raises(KeyError, match='unknown timm model'):
        tool.main(['--timm', 'no_such_model_xyz'])
    with pytest.raises(SystemExit):  # neither config nor --timm
        tool.parse_args([])
    with pytest.raises(SystemExit):
        tool.parse_args([str(tiny_config), '--shape', '1', '2', '3'])
    assert tool.parse_args([str(tiny_config), '--shape', '20', '12']).shape \
        == [20, 12]


def test_get_flops_tool_timm_deit_tiny(tmp_path):
    proc = _run_tool(['--timm', 'deit_tiny_patch16_224', '--out', 'ti.json'],
                     tmp_path)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / 'ti.json').read_text())
    assert res['params'] == DEIT_TI_PARAMS
    assert res['flops'] == pytest.approx(DEIT_TI_FLOPS, rel=1e-3)
    assert 'Flops: 1.258 G' in proc.stdout
    assert 'Params: 5.717 M' in proc.stdout
