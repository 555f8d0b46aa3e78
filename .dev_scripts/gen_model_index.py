# Copyright (c) mmfocus contributors.
"""Write ``model-index.yml`` and one ``configs/<dir>/metafile.yml`` per
config folder, from the configs themselves and ``checkpoints/``.

Every config that builds a model is listed (the experiment specs of
``configs/experiments`` that have no ``model`` are not models and are left
out), with the local checkpoint name it is published under
(``checkpoints/<dir>_<config>.pth``, the name ``tools/test.py`` and the
docs use) and, where that file is shipped, its size and sha256. ``mim
search mmfocus`` reads these files from the installed wheel.

Usage:
    python .dev_scripts/gen_model_index.py          # (re)write the files
    python .dev_scripts/gen_model_index.py --check  # exit 1 if out of date
"""
import argparse
import hashlib
import os
import os.path as osp
import sys

import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# folder -> (collection name, paper title, venue / year)
COLLECTIONS = {
    'focus': ('FoCus', 'Learning to Discover Forgery Cues for Face Forgery '
              'Detection', 'IEEE TIFS 2024'),
    'vit': ('ViT detector', 'An Image is Worth 16x16 Words: Transformers for '
            'Image Recognition at Scale', 'ICLR 2021'),
    'xception': ('Xception', 'FaceForensics++: Learning to Detect '
                 'Manipulated Facial Images', 'ICCV 2019'),
    'multitask': ('EfficientNet-B4 + FPN (multi-task)', 'Learning to '
                  'Discover Forgery Cues for Face Forgery Detection',
                  'IEEE TIFS 2024'),
    'pcl': ('PCL', 'Learning Self-Consistency for Deepfake Detection',
            'ICCV 2021'),
    'caddm': ('CADDM', 'Implicit Identity Leakage: The Stumbling Block to '
              'Improving Deepfake Detection Generalization', 'CVPR 2023'),
    'lttd': ('LTTD', 'Delving into Sequential Patches for Deepfake '
             'Detection', 'NeurIPS 2022'),
    'madd': ('MaDD', 'Multi-attentional Deepfake Detection', 'CVPR 2021'),
    'gffd': ('GFFD', 'Generalizing Face Forgery Detection with '
             'High-frequency Features', 'CVPR 2021'),
    'uia-vit': ('UIA-ViT', 'UIA-ViT: Unsupervised Inconsistency-Aware Method '
                'based on Vision Transformer for Face Forgery Detection',
                'ECCV 2022'),
    'face-xray': ('Face X-ray', 'Face X-ray for More General Face Forgery '
                  'Detection', 'CVPR 2020'),
    'experiments': ('Demo experiments', 'Learning to Discover Forgery Cues '
                    'for Face Forgery Detection', 'IEEE TIFS 2024'),
}

#: paper links (collection name -> URL)
PAPER_URLS = {'FoCus': 'https://arxiv.org/abs/2409.01030'}

#: measured figures kept with the generated entries, with where they come
#: from: FLOPs / parameters by tools/analysis/get_flops.py (multiply-adds,
#: every branch, attention included; tests/test_analysis/test_flops.py and
#: test_packaging.py check them); the demo results by the commands of
#: configs/focus/README.md#demo-checkpoint (seed 0, the shipped checkpoint,
#: 95 % bootstrap interval there)
_VIT_S = {'FLOPs': 9631968768, 'Parameters': 45153540}
EXTRA = {
    'focus_vit-s_ffpp-lq': {'Metadata': _VIT_S},
    'focus_vit-s_ffpp-hq': {'Metadata': _VIT_S},
    'focus_vit-demo_demo-sbi': {
        'Metadata': {'FLOPs': 150468096, 'Parameters': 2038852},
        'Results': [{
            'Task': 'Face Forgery Detection',
            'Dataset': 'mmfocus demo-sbi test split',
            'Metrics': {'AUC': 81.06, 'Acc': 77.49,
                        'Paired map-AUC': 0.847}}]},
}

DATA_ROOTS = {
    'data/demo_faces': 'mmfocus demo faces (self-blended images)',
    'data/demo_clips': 'mmfocus demo clips (self-blended videos)',
    'data/ffpp/c23': 'FaceForensics++ c23 (HQ)',
    'data/ffpp/c40': 'FaceForensics++ c40 (LQ)',
    'data/ffpp_clips/c23': 'FaceForensics++ c23 (HQ) clips',
    'data/ffpp_clips/c40': 'FaceForensics++ c40 (LQ) clips',
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def _architecture(model):
    out = []

    def add(node):
        if isinstance(node, dict) and node.get('type'):
            t = node['type']
            t = t if isinstance(t, str) else getattr(t, '__name__', str(t))
            if t not in out:
                out.append(t)

    add(model)
    for key in ('backbone', 'neck', 'head', 'decode_head', 'cl_neck'):
        node = model.get(key)
        for n in (node if isinstance(node, (list, tuple)) else [node]):
            add(n)
    return out


def _init_checkpoints(node, found=None):
    """Local weight files a config initialises from (``init_cfg``
    ``checkpoint`` / ``pretrained`` / ``load_from``), in order."""
    found = [] if found is None else found
    if isinstance(node, dict):
        for k, v in node.items():
            if (k in ('checkpoint', 'pretrained', 'load_from')
                    and isinstance(v, str) and v.endswith(('.pth', '.pt'))):
                if v not in found:
                    found.append(v)
            else:
                _init_checkpoints(v, found)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _init_checkpoints(v, found)
    return found


def _training_data(cfg):
    ds = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while isinstance(ds, dict) and isinstance(ds.get('dataset'), dict):
        ds = ds['dataset']
    root = str(ds.get('data_root', '')).rstrip('/')
    return DATA_ROOTS.get(root, root or None)


def model_entry(rel, cfg):
    folder, fname = rel.split('/', 1)
    stem = osp.splitext(fname)[0].replace('/', '_')
    name = f'{folder}_{stem}'
    ckpt = f'checkpoints/{name}.pth'
    meta = {'Architecture': _architecture(cfg.model)}
    data = _training_data(cfg)
    if data:
        meta['Training Data'] = data
    train_cfg = cfg.get('train_cfg') or {}
    for key, label in (('max_iters', 'Iterations'), ('max_epochs', 'Epochs')):
        if train_cfg.get(key):
            meta[label] = int(train_cfg[key])
    bs = (cfg.get('train_dataloader') or {}).get('batch_size')
    if bs:
        meta['Batch Size per GPU'] = int(bs)
    inits = _init_checkpoints({'model': cfg.model,
                               'load_from': cfg.get('load_from')})
    if inits:
        meta['Initialised From'] = inits
    meta['Checkpoint'] = ckpt
    path = osp.join(ROOT, ckpt)
    if osp.isfile(path):
        meta['Checkpoint Shipped'] = True
        meta['Checkpoint Size'] = os.path.getsize(path)
        meta['Checkpoint SHA256'] = sha256(path)
    else:
        meta['Checkpoint Shipped'] = False
    extra = EXTRA.get(name, {})
    meta.update(extra.get('Metadata', {}))
    entry = {'Name': name, 'In Collection': COLLECTIONS[folder][0],
             'Config': f'configs/{rel}', 'Metadata': meta}
    if extra.get('Results'):
        entry['Results'] = extra['Results']
    if meta['Checkpoint Shipped']:
        entry['Weights'] = ckpt  # a local file: nothing is downloaded
    return entry


def build(root=ROOT):
    """``{relative output path: YAML text}`` for every file written."""
    if root not in sys.path:  # this checkout's mmfocus, installed or not
        sys.path.insert(0, root)
    from mmfocus.utils.config import read_config_file
    from mmfocus.utils.config_index import list_configs
    cfg_root = osp.join(root, 'configs')
    by_folder = {}
    for rel in list_configs(root=cfg_root):
        cfg = read_config_file(osp.join(cfg_root, rel))
        if not cfg.get('model'):
            continue  # an experiment spec, not a model
        folder = rel.split('/', 1)[0]
        if folder not in COLLECTIONS:
            raise KeyError(f'configs/{folder}: add it to COLLECTIONS in '
                           f'{osp.relpath(__file__, root)}')
        by_folder.setdefault(folder, []).append(model_entry(rel, cfg))
    files = {}
    header = ('# Generated by .dev_scripts/gen_model_index.py from the '
              'configs and checkpoints/: do not edit by hand.\n')
    for folder, models in sorted(by_folder.items()):
        cname, title, venue = COLLECTIONS[folder]
        paper = {'Title': title, 'Venue': venue}
        if cname in PAPER_URLS:
            paper['URL'] = PAPER_URLS[cname]
        coll = {'Name': cname, 'Paper': paper}
        if osp.isfile(osp.join(cfg_root, folder, 'README.md')):
            coll['README'] = f'configs/{folder}/README.md'
        doc = {'Collections': [coll], 'Models': models}
        files[f'configs/{folder}/metafile.yml'] = header + yaml.safe_dump(
            doc, sort_keys=False, width=79, allow_unicode=True)
    files['model-index.yml'] = header + yaml.safe_dump(
        {'Import': [f'configs/{f}/metafile.yml' for f in sorted(by_folder)]},
        sort_keys=False)
    return files


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--check', action='store_true',
                   help='write nothing; exit 1 naming the files that are '
                   'out of date')
    args = p.parse_args(argv)
    files = build()
    stale = []
    for rel, text in files.items():
        path = osp.join(ROOT, rel)
        old = open(path, encoding='utf-8').read() if osp.isfile(path) else None
        if old == text:
            continue
        stale.append(rel)
        if not args.check:
            from mmfocus.utils.io import atomic_write
            atomic_write(path, text.encode('utf-8'))
    n = sum(len(yaml.safe_load(t)['Models'])
            for r, t in files.items() if r != 'model-index.yml')
    if args.check:
        if stale:
            print('out of date (run python .dev_scripts/gen_model_index.py):'
                  f' {", ".join(stale)}')
            return 1
        print(f'model index up to date: {len(files) - 1} metafiles')
        return 0
    print(f'{n} models in {len(files) - 1} metafiles; wrote {len(stale)} '
          f'changed file(s) under {ROOT}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
