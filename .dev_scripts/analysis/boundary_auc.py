"""Where inside a fake does a map put its evidence: in the blended region,
on its boundary, or outside it? (A maintainer diagnostic for issue 10.)

For every test fake of a demo-format annotation and every map source whose
maps a map-protocol run wrote, per-image pixel AUC (sklearn) of the map at
56 x 56 against three labels made from the true soft blend mask ``M``:

- ``region``: ``M > 0.5`` (what ``MapQualityMetric`` scores);
- ``boundary``: the transition band ``0.05 < M < 0.95``, against all other
  pixels (a Face X-ray-like boundary map scores high here);
- ``boundary vs interior``: the band against ``M >= 0.95`` only (> 0.5: the
  map is higher on the edge than inside).

Means over the fakes, whole-face (``sbi``) and local-region fakes apart;
a fake whose label is all one class is skipped (counts printed).

    python .dev_scripts/analysis/boundary_auc.py \
        work_dirs/map_sources_baselines_demo/maps/test \
        data/demo_faces/test.json
"""
import argparse
import collections
import glob
import json
import os
import os.path as osp

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score


def read_map(path: str, size: int = 56) -> np.ndarray:
    m = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if m is None:
        raise FileNotFoundError(f'cannot read {path}')
    m = m.astype(np.float32) / (65535. if m.dtype == np.uint16 else 255.)
    if m.ndim == 3:
        m = m[..., 0]
    return cv2.resize(m, (size, size), interpolation=cv2.INTER_AREA)


def auc(label: np.ndarray, score: np.ndarray):
    if label.all() or not label.any():
        return None
    return roc_auc_score(label.ravel(), score.ravel())


def boundary_aucs(maps_dir: str, ann: str, data_root=None) -> dict:
    """``{source: {(label, kind): [per-image AUC, ...]}}`` with ``label`` in
    ``('region', 'boundary', 'boundary vs interior')`` and ``kind`` in
    ``('face', 'local')``."""
    root = data_root or osp.dirname(ann)
    with open(ann) as f:
        items = [d for d in json.load(f)['data_list'] if d['gt_label'] == 1]
    sources = sorted(s for s in os.listdir(maps_dir)
                     if osp.isdir(osp.join(maps_dir, s)))
    res = {src: collections.defaultdict(list) for src in sources}
    for d in items:
        name = osp.basename(d['img_path'])
        mask = read_map(osp.join(root, d['mask_path']))
        kind = 'face' if d['method'] == 'sbi' else 'local'
        region, band = mask > 0.5, (mask > 0.05) & (mask < 0.95)
        inner = band | (mask >= 0.95)
        for src in sources:
            # <maps_dir>/<source name>/<map source>/fake/<image>.png
            paths = glob.glob(osp.join(maps_dir, src, '*', 'fake',
                                       name + '.png'))
            if not paths:
                continue
            m = read_map(paths[0])
            for key, value in (('region', auc(region, m)),
                               ('boundary', auc(band, m)),
                               ('boundary vs interior',
                                auc(band[inner], m[inner]))):
                if value is not None:
                    res[src][(key, kind)].append(value)
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('maps_dir', help='<protocol work_dir>/maps/<split>')
    p.add_argument('ann', help='the annotation with the true masks')
    p.add_argument('--data-root', default=None,
                   help='root of the annotation (default: its folder)')
    args = p.parse_args(argv)
    res = boundary_aucs(args.maps_dir, args.ann, args.data_root)
    keys = [(k, t) for k in ('region', 'boundary', 'boundary vs interior')
            for t in ('face', 'local')]
    print('| source | ' + ' | '.join(f'{k} ({t})' for k, t in keys) + ' |')
    print('|---' * (len(keys) + 1) + '|')
    for src, r in res.items():
        cells = [f'{np.mean(r[k]):.3f} ({len(r[k])})' if r[k] else 'n/a'
                 for k in keys]
        print(f'| {src} | ' + ' | '.join(cells) + ' |')
    return res


if __name__ == '__main__':
    main()
