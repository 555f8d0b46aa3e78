"""The shipped demo checkpoint gives the outputs recorded before the CL
block became a neck (fused feature) plus a head (mmpretrain's
LinearClsHead): checkpoints with the old keys load and behave the same."""
import os.path as osp

import numpy as np
import torch

from mmfocus.models import FoCus
from mmfocus.utils.checkpoint import check_state_dict, load_state_dict_file

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'configs/focus/vit-demo_demo-sbi.py')
CKPT = osp.join(ROOT, 'checkpoints/focus_vit-demo_demo-sbi.pth')
REF = osp.join(ROOT, 'tests/data/focus_demo_outputs.npz')


def _input():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (3, 3, 64, 64), generator=g).float()


def test_demo_checkpoint_outputs_unchanged():
    from mmfocus.apis import init_model
    # the reference maps were recorded with the paper's min-max scale
    model = init_model(CFG, CKPT, device='cpu',
                       cfg_options={'model.map_norm': 'minmax'})
    ref = np.load(REF)
    x = _input()
    with torch.no_grad():
        logits, maps = model(x)
        inputs = model.data_preprocessor(
            dict(inputs=list(x.to(torch.uint8))), False)['inputs']
        pre = model.extract_pre_logits(inputs)
        feats = model.extract_feat(inputs)
    np.testing.assert_allclose(logits.numpy(), ref['logits'], atol=1e-5)
    np.testing.assert_allclose(maps.numpy(), ref['maps'], atol=1e-5)
    np.testing.assert_allclose(pre.numpy(), ref['pre_logits'], atol=1e-5)
    # the fused feature is what the CL head classifies (no hook needed)
    torch.testing.assert_close(model.cl_head((feats['fused_feat'], )),
                               feats['fused_logits'])


def test_old_cl_head_keys_are_renamed_on_load():
    from mmfocus.apis import init_model
    model = init_model(CFG, device='cpu')
    state = load_state_dict_file(CKPT)
    old = {k: v for k, v in state.items() if k.startswith('cl_neck.head.')}
    if not old:  # a re-saved checkpoint: make the old layout from it
        state = {('cl_neck.head.' + k[len('cl_head.fc.'):]
                  if k.startswith('cl_head.fc.') else k): v
                 for k, v in state.items()}
    assert any(k.startswith('cl_neck.head.') for k in state)
    check_state_dict(model, state)  # the strict check sees the new names
    model.load_state_dict(state, strict=True)
    torch.testing.assert_close(model.cl_head.fc.weight,
                               state['cl_neck.head.weight'].float())
    new = model.state_dict()
    assert 'cl_head.fc.weight' in new and not any(
        k.startswith('cl_neck.head') for k in new)
    up = FoCus.upgrade_state_dict({'module.cl_neck.head.bias': 1}, 'module.')
    assert up == {'module.cl_head.fc.bias': 1}
