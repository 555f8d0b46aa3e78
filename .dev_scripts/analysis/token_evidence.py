"""Where on the token grid does a FoCus model put its fake evidence, and is
it the face or the blend? (A maintainer diagnostic for issue 10.)

For every fake of a paired demo split (val by default) with its real twin,
the fused manipulation map and each branch's per-location CAR logits
``mean_j F'[c, j](p)`` (the ones the posterior map reads) on the token grid;
the true soft mask ``M`` and the face hull (convex hull of the 68 landmarks)
are area-averaged to the grid. Printed:

- per-image AUC (:func:`mmfocus.evaluation.functional.binary_auc`, equal
  to sklearn's) of the map against ``M > 0.5``: over all tokens
  (what ``MapQualityMetric`` scores, at token resolution), and only over
  the tokens inside the face hull (the blend is always in the face, so a
  map that only tells face from background scores high on the first and
  0.5 on the second);
- face-vs-background AUC of the map (hull as the label): > 0.5 when the map
  is higher on the face than around it;
- the same blend-vs-rest AUC of the fake's map minus its twin's (what the
  map would score if the per-location level the face itself gives, without
  any manipulation, were known and removed: an upper reference, not a map a
  detector can produce, as it needs the twin);
- per branch and class, the mean per-location logit of the fake minus that
  of its twin, inside the blend (``M > 0.5``) and outside it (``M < 0.05``),
  beside the spatial standard deviation of the twin's own fake-minus-real
  location logit (how much the level varies within one real face).

    python .dev_scripts/analysis/token_evidence.py \
        configs/focus/vit-demo_demo-sbi_1k.py work_dirs/demo_1k/iter_1000.pth
"""
import argparse

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mmfocus.apis import init_model
from mmfocus.evaluation.functional import binary_auc
from mmfocus.registry import DATASETS
from mmfocus.utils import register_all_modules


def _auc(label: np.ndarray, score: np.ndarray) -> float:
    """Pixel AUC of ``score`` against a boolean label; nan if one class."""
    return binary_auc(score.ravel(), label.ravel())


def _hull(landmarks, crop_shape, grid) -> np.ndarray:
    """The landmarks' convex hull, drawn in the stored crop (``crop_shape``)
    and area-averaged to the token grid."""
    lm = np.asarray(landmarks, np.float32).astype(np.int32)
    hull = np.zeros(tuple(crop_shape[:2]), np.float32)
    cv2.fillConvexPoly(hull, cv2.convexHull(lm), 1)
    return cv2.resize(hull, grid[::-1], interpolation=cv2.INTER_AREA) > 0.5


@torch.no_grad()
def _run(model, items, idx, batch=32):
    out = dict(map=[], logits={})
    for s in range(0, len(idx), batch):
        x = [items[i]['inputs'] for i in idx[s:s + batch]]
        feats = model.extract_feat(
            model.data_preprocessor(dict(inputs=x), False)['inputs'])
        out['map'].append(model.manipulation_maps(feats).float())
        for b, f in feats['branch'].items():
            out['logits'].setdefault(b, []).append(
                model.heads[b].location_logits(f['feat']).float())
    out['map'] = torch.cat(out['map'])
    out['logits'] = {b: torch.cat(v) for b, v in out['logits'].items()}
    return out


def token_evidence(config: str, checkpoint: str, split: str = 'val',
                   cfg_options=None) -> dict:
    register_all_modules()
    model = init_model(config, checkpoint, cfg_options=cfg_options)
    ds = DATASETS.build(model.cfg[f'{split}_dataloader'].dataset)
    if getattr(ds, 'paired_self_blend', False):
        raise ValueError('token_evidence needs stored fakes with a '
                         'pair_path (a demo val/test annotation)')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    by_path = {d['img_path']: i for i, d in enumerate(infos)}
    fakes = [i for i, d in enumerate(infos)
             if d['gt_label'] == 1 and d.get('pair_path') in by_path]
    twins = [by_path[infos[i]['pair_path']] for i in fakes]
    items = {i: ds[i] for i in fakes + twins}
    of, ot = _run(model, items, fakes), _run(model, items, twins)
    grid = tuple(of['map'].shape[-2:])
    res = dict(n=len(fakes), all=[], face=[], face_vs_bg=[], twin_ref=[],
               logits={}, twin_sd={})
    inside, outside = [], []
    for j, i in enumerate(fakes):
        sample = items[i]['data_samples']
        mask = torch.as_tensor(np.asarray(sample.gt_mask),
                               dtype=torch.float32)
        mg = F.adaptive_avg_pool2d(mask.reshape(1, 1, *mask.shape[-2:]),
                                   grid)[0, 0].numpy()
        hull = _hull(infos[i]['landmarks'], sample.ori_shape, grid)
        m = of['map'][j].numpy()
        for key, value in (('all', _auc(mg > 0.5, m)),
                           ('face', _auc((mg > 0.5)[hull], m[hull])),
                           ('face_vs_bg', _auc(hull, m)),
                           ('twin_ref', _auc(mg > 0.5,
                                             m - ot['map'][j].numpy()))):
            if not np.isnan(value):
                res[key].append(value)
        inside.append(mg > 0.5)
        outside.append(mg < 0.05)
    inside = torch.as_tensor(np.stack(inside))
    outside = torch.as_tensor(np.stack(outside))
    for b, z in of['logits'].items():
        d = z - ot['logits'][b]
        for c, name in enumerate(('real', 'fake')):
            res['logits'][(b, name)] = (float(d[:, c][inside].mean()),
                                        float(d[:, c][outside].mean()))
        level = ot['logits'][b][:, 1] - ot['logits'][b][:, 0]
        res['twin_sd'][b] = float(level.flatten(1).std(dim=1).mean())
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--split', default='val', choices=('val', 'test'))
    p.add_argument('--cfg-options', nargs='+', default=None,
                   metavar='KEY=VALUE', help='config overrides')
    args = p.parse_args(argv)
    r = token_evidence(args.config, args.checkpoint, args.split,
                       args.cfg_options)
    print(f'{r["n"]} fakes with their twins ({args.split})')
    for key, what in (('all', 'blend vs rest, all tokens'),
                      ('face', 'blend vs rest, face-hull tokens only'),
                      ('face_vs_bg', 'face hull vs background'),
                      ('twin_ref', 'blend vs rest, fake map minus twin map')):
        print(f'per-image AUC, {what}: {np.mean(r[key]):.3f} '
              f'({len(r[key])} fakes)')
    for (b, c), (i, o) in r['logits'].items():
        print(f'{b} {c}-class logit, fake minus twin: inside the blend '
              f'{i:+.3f}, outside {o:+.3f}')
    for b, sd in r['twin_sd'].items():
        print(f'{b} twin\'s fake-minus-real location logit, spatial sd '
              f'within a face: {sd:.3f}')
    return r


if __name__ == '__main__':
    main()
