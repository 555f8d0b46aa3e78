# Copyright (c) mmfocus contributors.
"""Print the demo's results in plain words (used by tools/run_demo.sh).

    python tools/misc/demo_summary.py WORK_DIR_OF_TEST [--train-dir DIR]
"""
import argparse
import json
import os.path as osp
import sys


def _latest_metrics(work_dir: str) -> dict:
    from mmfocus.visualization.report import find_test_metrics, load_metrics
    path = find_test_metrics(work_dir)
    if path is None:
        raise FileNotFoundError(f'no test metrics JSON under {work_dir}')
    return load_metrics(path)


def bootstrap_auc(pred_file: str, n: int = 1000, seed: int = 0):
    """95 % bootstrap interval of the AUC over test faces (resampled
    with replacement), from ``tools/test.py --out`` predictions."""
    from mmfocus.evaluation.functional import bootstrap_interval
    preds = json.load(open(pred_file))
    lo, hi = bootstrap_interval([p['fake_score'] for p in preds],
                                labels=[p['gt_label'] for p in preds],
                                n=n, seed=seed)
    return 100 * lo, 100 * hi


PRIORS = (('prior: mean test mask', 'prior_mean_mask/'),
          ('prior: centred Gaussian', 'prior_gaussian/'),
          ('prior: region (train masks)', 'prior_region/'))


def _f(v, digits=3) -> str:
    return 'n/a' if v is None or v != v else f'{v:.{digits}f}'


def print_map_quality(m: dict) -> None:
    """Map quality overall and per region type, beside the priors."""
    g = m.get
    nan = float('nan')
    print('  manipulation maps against the true blend masks:')
    print(f"    paired map-AUC {g('map/paired_auc', nan):.3f} over "
          f"{int(g('map/num_pairs', 0))} fake/real pairs (any position "
          'prior scores 0.500)')
    cols = (('pixel_auc_per_image', 'pixAUC/img'), ('f1@0.5', 'F1@0.5'),
            ('iou@0.5', 'IoU@0.5'), ('pixel_auc', 'pixAUC pool'),
            ('pointing_game', 'pointing'))
    head = ''.join(f'{h:>12s}' for _, h in cols)
    print(f"    {'all fakes (' + str(int(g('map/num_fakes', 0))) + ')':30s}"
          f'{head}')
    for name, pre in (('FoCus maps', 'map/'), ) + tuple(
            (n, 'map/' + p) for n, p in PRIORS):
        if pre + 'pixel_auc' not in m:
            continue
        print(f'    {name:30s}' + ''.join(
            f'{_f(g(pre + k)):>12s}' for k, _ in cols))
    groups = sorted({k.split('/')[1] for k in m
                     if k.startswith('map/') and k.count('/') >= 2
                     and k.endswith('/num_fakes')
                     and not k.split('/')[1].startswith('prior_')})
    if groups:
        print('    per region type (per-image pixel AUC / F1@0.5 over the '
              "group's fakes; 'best prior' = the best of the three priors'"
              ' per-image pixel AUC):')
        print(f"    {'method':18s}{'fakes':>6s}{'paired':>8s}"
              f"{'pixAUC/img':>11s}{'F1@0.5':>8s}{'best prior':>11s}"
              f"{'margin':>8s}")
        for grp in groups:
            pre = f'map/{grp}/'
            best = max((g(pre + p + 'pixel_auc_per_image', nan)
                        for _, p in PRIORS), key=lambda v: -1 if v != v else v)
            own = g(pre + 'pixel_auc_per_image', nan)
            print(f'    {grp:18s}{int(g(pre + "num_fakes", 0)):6d}'
                  f'{_f(g(pre + "paired_auc")):>8s}{_f(own):>11s}'
                  f'{_f(g(pre + "f1@0.5")):>8s}{_f(best):>11s}'
                  f'{_f(own - best):>8s}')
    print('    (pixel AUC, F1, IoU and the pointing game reward the face '
          'position alone: read them against the priors; paired map-AUC '
          'leads)')


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
        n_test = s['faces']['test']
        n_fake = sum(s.get('regions', {}).get('test', {}).values()) or n_test
        print(f"  data: {sum(s['faces'].values())} real face crops from "
              f"{s['images']} shipped photos (dlib HOG + 68 landmarks), each "
              'with self-blended pseudo-fakes (whole face, and one facial '
              'region) and their blend masks;')
        print(f'        test split {n_test} real + {n_fake} fake faces from '
              'photos/people never seen in training. This is NOT '
              'FaceForensics++.')
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
    print_map_quality(m)
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
