# Copyright (c) mmfocus contributors.
"""Print the demo's results in plain words (used by tools/run_demo.sh).

    python tools/misc/demo_summary.py WORK_DIR_OF_TEST [--train-dir DIR]
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


def _latest_metrics(work_dir: str) -> dict:
    from mmfocus.visualization.report import find_test_metrics, load_metrics
    path = find_test_metrics(work_dir)
    if path is None:
        raise FileNotFoundError(f'no test metrics JSON under {work_dir}')
    return load_metrics(path)


def bootstrap_auc(pred_file: str, n: int = 1000, seed: int = 0):
    """95 % bootstrap interval of the AUC over test faces (resampled
    with replacement), from ``tools/test.py --out`` predictions."""
    import numpy as np

    from mmfocus.evaluation.functional import binary_auc
    preds = json.load(open(pred_file))
    s = np.array([p['fake_score'] for p in preds])
    y = np.array([p['gt_label'] for p in preds])
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(n):
        idx = rng.integers(0, len(s), len(s))
        if 0 < y[idx].sum() < len(idx):
            aucs.append(binary_auc(s[idx], y[idx]))
    return 100 * np.percentile(aucs, 2.5), 100 * np.percentile(aucs, 97.5)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('test_dir')
    p.add_argument('--train-dir')
    p.add_argument('--data-root', default='data/demo_faces')
    args = p.parse_args(argv)
    m = _latest_metrics(args.test_dir)
    g = m.get
    print('=' * 72)
    print('mmfocus demo: FoCus on the built-in demo data')
    summary = osp.join(args.data_root, 'summary.json')
    if osp.isfile(summary):
        s = json.load(open(summary))
        print(f"  data: {sum(s['faces'].values())} real face crops from "
              f"{s['images']} shipped photos (dlib HOG + 68 landmarks), each "
              'with a self-blended pseudo-fake and its blend mask;')
        print(f"        test split {s['faces']['test']} real + "
              f"{s['faces']['test']} fake faces from photos/people never "
              'seen in training. This is NOT FaceForensics++.')
    print('  detection (held-out test split, frame level):')
    print(f"    Acc {g('forgery/acc', float('nan')):.2f}  "
          f"AUC {g('forgery/auc', float('nan')):.2f}  "
          f"EER {g('forgery/eer', float('nan')):.2f}  "
          f"AP {g('forgery/ap', float('nan')):.2f}   (%)")
    pred_file = osp.join(args.test_dir, 'predictions.json')
    if osp.isfile(pred_file):
        lo, hi = bootstrap_auc(pred_file)
        print(f'    AUC 95 % bootstrap interval over test faces: '
              f'[{lo:.1f}, {hi:.1f}]')
    print('  manipulation maps against the true blend masks:')
    print(f"    paired map-AUC {g('map/paired_auc', float('nan')):.3f} "
          f"over {int(g('map/num_pairs', 0))} fake/real pairs "
          '(a position prior scores 0.500)')
    rows = [('FoCus maps', 'map/'), ('prior: mean mask', 'map/prior_mean_mask/'),
            ('prior: centred Gaussian', 'map/prior_gaussian/')]
    print(f"    {'':26s}{'pixel AUC':>10s}{'IoU@0.5':>10s}{'pointing':>10s}")
    for name, pre in rows:
        print(f"    {name:26s}{g(pre + 'pixel_auc', float('nan')):10.3f}"
              f"{g(pre + 'iou@0.5', float('nan')):10.3f}"
              f"{g(pre + 'pointing_game', float('nan')):10.3f}")
    print('    (pixel AUC / IoU / pointing game reward the face position '
          'alone: read them against the priors)')
    maps = osp.join(args.test_dir, 'maps', 'test')
    print(f'  maps (raw 16-bit PNG + colour overlays): {maps}')
    if args.train_dir:
        fl = osp.join(args.train_dir, 'flops.json')
        if osp.isfile(fl):
            f = json.load(open(fl))
            print(f"  FLOPs profile of the whole model: {fl} "
                  f"({f['flops_str']} FLOPs, {f['params_str']} params)")
    print('=' * 72)
    return 0


if __name__ == '__main__':
    sys.exit(main())
