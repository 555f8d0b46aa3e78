"""The token-grid diagnostic (.dev_scripts/analysis/token_evidence.py): on
tiny demo data with a random FoCus-demo, every paired fake is scored and the
AUCs are AUCs; with maps replaced by each fake's own mask on the grid (a
known answer) the blend-vs-rest AUC is 1 and the mask-minus-twin AUC too,
with the inverted mask 0; logit shifts are the fake's minus its twin's."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F

CFG = 'configs/focus/vit-demo_demo-sbi_1k.py'


def _paired_fakes(root):
    with open(osp.join(root, 'val.json')) as f:
        items = json.load(f)['data_list']
    paths = {d['img_path'] for d in items}
    return [d for d in items
            if d['gt_label'] == 1 and d.get('pair_path') in paths]


@pytest.mark.parametrize('answer', ['mask', 'inverse'])
def test_known_answers(tiny_demo_data, random_checkpoint, load_tool,
                       monkeypatch, answer):
    tool = load_tool('.dev_scripts/analysis/token_evidence.py')
    ckpt = random_checkpoint(CFG)
    n = len(_paired_fakes(tiny_demo_data))
    assert n > 0
    opts = [f'val_dataloader.dataset.data_root={tiny_demo_data}']
    if answer != 'random':
        real_run = tool._run

        def mask_run(model, items, idx, batch=32):
            out = real_run(model, items, idx, batch)
            grid = tuple(out['map'].shape[-2:])
            maps = []
            for i in idx:
                m = torch.as_tensor(np.asarray(
                    items[i]['data_samples'].gt_mask), dtype=torch.float32)
                m = F.adaptive_avg_pool2d(m.reshape(1, 1, *m.shape[-2:]),
                                          grid)[0, 0]
                maps.append(m if answer == 'mask' else 1 - m)
            out['map'] = torch.stack(maps)
            out['logits'] = {b: torch.full_like(z, float(len(idx) % 7))
                             for b, z in out['logits'].items()}
            return out

        monkeypatch.setattr(tool, '_run', mask_run)
    r = tool.main([CFG, ckpt, '--cfg-options'] + opts)
    assert r['n'] == n
    for key in ('all', 'face', 'face_vs_bg', 'twin_ref'):
        assert all(0 <= v <= 1 for v in r[key]), key
    assert r['all'] and len(r['all']) <= n
    if answer == 'mask':
        # the twins' masks are all zero: map minus twin is the mask again
        assert r['all'] == pytest.approx([1.0] * len(r['all']))
        assert r['twin_ref'] == pytest.approx([1.0] * len(r['twin_ref']))
        # a constant logit on both sides: no shift in or out
        for shift in r['logits'].values():
            assert shift == pytest.approx((0.0, 0.0))
    elif answer == 'inverse':
        assert r['all'] == pytest.approx([0.0] * len(r['all']))
