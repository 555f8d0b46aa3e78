# Copyright (c) mmfocus contributors.
"""mmfocus's RetinaFace-MobileNet0.25 against the public PyTorch
implementation it loads weights from, on random weights.

Needs a local checkout of biubug6/Pytorch_Retinaface (nothing is fetched;
its code is imported from there at run time, not shipped). Builds its
``RetinaFace(cfg_mnet, phase='test')`` with random weights and random BN
statistics, saves its state dict with the ``module.`` prefix of the
published file, loads that into :class:`mmfocus.faces.RetinaFaceNet` and
compares the outputs, the anchors (``PriorBox``) and the decoded boxes and
landmarks (``decode`` / ``decode_landm``) at several input sizes:

    python .dev_scripts/analysis/check_retinaface_reference.py \
        --reference-repo /path/to/Pytorch_Retinaface
"""
import argparse
import sys

import torch

CFG_MNET = dict(name='mobilenet0.25', min_sizes=[[16, 32], [64, 128],
                                                 [256, 512]],
                steps=[8, 16, 32], variance=[0.1, 0.2], clip=False,
                pretrain=False,
                return_layers={'stage1': 1, 'stage2': 2, 'stage3': 3},
                in_channel=32, out_channel=64)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--reference-repo', required=True,
                   help='local checkout of biubug6/Pytorch_Retinaface')
    p.add_argument('--sizes', nargs='+', default=['640x640', '250x333',
                                                  '360x640'])
    args = p.parse_args(argv)
    sys.path.insert(0, args.reference_repo)
    from layers.functions.prior_box import PriorBox
    from models.retinaface import RetinaFace
    from utils.box_utils import decode, decode_landm

    from mmfocus.faces.retinaface import (RetinaFaceNet, convert_retinaface,
                                          decode_boxes, decode_landmarks,
                                          prior_boxes)
    torch.manual_seed(0)
    ref = RetinaFace(cfg=CFG_MNET, phase='test')
    for m in ref.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2)
            m.weight.data.normal_()
            m.bias.data.normal_()
    ref.eval()
    published = {'module.' + k: v for k, v in ref.state_dict().items()}
    mine = RetinaFaceNet()
    mine.load_state_dict(convert_retinaface(published))
    mine.eval()
    print(f'parameters: reference '
          f'{sum(q.numel() for q in ref.parameters()):,}, mmfocus '
          f'{sum(q.numel() for q in mine.parameters()):,}; state entries '
          f'{len(published)}')
    worst = 0.0
    for spec in args.sizes:
        h, w = (int(v) for v in spec.split('x'))
        x = torch.randn(2, 3, h, w) * 50
        with torch.no_grad():
            r_loc, r_conf, r_lmk = ref(x)
            m_loc, m_score, m_lmk = mine(x)
        r_pri = PriorBox(CFG_MNET, image_size=(h, w)).forward()
        m_pri = prior_boxes(h, w)
        diffs = dict(
            loc=(r_loc - m_loc).abs().max(),
            score=(r_conf[..., 1] - m_score).abs().max(),
            landmarks=(r_lmk - m_lmk).abs().max(),
            priors=(r_pri - m_pri).abs().max(),
            boxes=(decode(r_loc[0], r_pri, [0.1, 0.2]) -
                   decode_boxes(m_loc, m_pri)[0]).abs().max(),
            landmark_points=(decode_landm(r_lmk[0], r_pri, [0.1, 0.2]) -
                             decode_landmarks(m_lmk, m_pri)[0].reshape(
                                 -1, 10)).abs().max())
        print(f'{h}x{w}: {r_pri.shape[0]} anchors; max |difference| ' +
              ', '.join(f'{k} {float(v):.2e}' for k, v in diffs.items()))
        worst = max(worst, max(float(v) for v in diffs.values()))
    print('OK' if worst < 1e-5 else 'MISMATCH', f'(largest {worst:.2e})')
    return 0 if worst < 1e-5 else 1


if __name__ == '__main__':
    sys.exit(main())
