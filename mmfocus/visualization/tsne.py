# Copyright (c) mmfocus contributors.
"""t-SNE of a detector's features over a test set (the paper's Fig. 9).

The feature of a sample is what the model's classification head takes
(``extract_pre_logits``: the pooled backbone output of the multi-task
evaluation model, the fused token feature of FoCus; mmpretrain classifiers'
``extract_feat(inputs, stage='pre_logits')`` works too). sklearn's
:class:`~sklearn.manifold.TSNE` embeds them in 2-D; the plot colours points
by label (real / fake) and marks them by manipulation method (the
annotation's ``method`` field).

Example:
    >>> from mmfocus.visualization.tsne import tsne_plot
    >>> summary = tsne_plot('configs/focus/vit-demo_demo-sbi.py',
    ...                     'checkpoints/focus_vit-demo_demo-sbi.pth',
    ...                     'work_dirs/tsne/focus.png')
    >>> summary['embedding']        # work_dirs/tsne/focus.npz
"""
import copy
import io
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

# Label colours (real, fake) and the markers cycled over methods.
LABEL_COLORS = ('#1f77b4', '#d62728')
METHOD_MARKERS = ('o', '^', 's', 'D', 'v', 'P', 'X', '*', '<', '>', 'h', 'p')


def default_device() -> str:
    """``'cuda'`` when a GPU is visible, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def pre_logits(model: torch.nn.Module, inputs) -> torch.Tensor:
    """``(B, D)`` features before the model's classification head.

    Args:
        model (nn.Module): A model with ``extract_pre_logits(inputs)``
            (:class:`~mmfocus.models.FoCus`,
            :class:`~mmfocus.models.multitask.MultiTaskDetector`) or an
            mmpretrain classifier (``extract_feat(inputs, stage=...)``).
        inputs: Preprocessed inputs (the data preprocessor's output).

    Raises:
        TypeError: the model exposes neither.
    """
    if hasattr(model, 'extract_pre_logits'):
        feat = model.extract_pre_logits(inputs)
    else:
        try:
            feat = model.extract_feat(inputs, stage='pre_logits')
        except (AttributeError, TypeError):
            raise TypeError(
                f'{type(model).__name__} has no extract_pre_logits(inputs) '
                'or extract_feat(inputs, stage="pre_logits")') from None
        if isinstance(feat, (tuple, list)):
            feat = feat[-1]
    return feat.float().flatten(1)


def build_dataset(cfg, ann_file: Optional[str] = None,
                  data_root: Optional[str] = None,
                  split: str = 'test'):
    """The config's ``<split>_dataloader.dataset``, optionally on another
    annotation file.

    Args:
        cfg (Config): A loaded config (``model.cfg`` of ``init_model``).
        ann_file (str, optional): Annotation file: an existing path (its
            folder becomes the data root unless ``data_root`` is given), or
            a name under the config's data root. Defaults to the config's.
        data_root (str, optional): Overrides the data root.
        split (str): ``'test'`` or ``'val'``. Defaults to ``'test'``.

    Raises:
        KeyError: the config has no such dataloader.
        FileNotFoundError: the annotation file does not exist.
    """
    from mmengine.registry import DefaultScope

    from mmfocus.registry import DATASETS
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        raise KeyError(f'the config has no {split}_dataloader.dataset')
    ds_cfg = copy.deepcopy(loader['dataset'])
    if data_root is not None:
        ds_cfg['data_root'] = data_root
    if ann_file is not None:
        root = ds_cfg.get('data_root') or ''
        if osp.isfile(ann_file) or osp.isabs(ann_file):
            ann_file = osp.abspath(ann_file)
            if data_root is None:
                # the annotation's relative paths start at its folder
                ds_cfg['data_root'] = osp.dirname(ann_file)
        elif not osp.isfile(osp.join(root, ann_file)):
            raise FileNotFoundError(f'annotation file not found: {ann_file} '
                                    f'(nor under data root {root!r})')
        ds_cfg['ann_file'] = ann_file
    scope = cfg.get('default_scope', 'mmfocus')
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.build(ds_cfg)


def extract_features(model: torch.nn.Module,
                     dataset,
                     max_samples: Optional[int] = None,
                     seed: int = 0,
                     batch_size: int = 16,
                     num_workers: int = 0,
                     progress: bool = False) -> Dict:
    """Features of (a random subset of) a dataset.

    Args:
        model (nn.Module): From :func:`mmfocus.apis.init_model`.
        dataset: A built face-forgery dataset (its pipeline packs
            ``inputs`` and ``data_samples``).
        max_samples (int, optional): Keep a random subset of this size
            (drawn with ``seed``, kept in dataset order). Defaults to None
            (all).
        seed (int): Subset seed. Defaults to 0.
        batch_size (int): Defaults to 16.
        num_workers (int): DataLoader workers. Defaults to 0.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        dict: ``features`` (N, D) float32, ``labels`` (N,) int64,
        ``methods`` and ``img_paths`` (lists of N str), ``indices`` (N,)
        dataset indices.
    """
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader
    from tqdm import tqdm
    n = len(dataset)
    if max_samples is not None and max_samples < 1:
        raise ValueError(f'max_samples must be >= 1, got {max_samples}')
    indices = np.arange(n)
    if max_samples is not None and max_samples < n:
        rng = np.random.default_rng(seed)
        indices = np.sort(rng.choice(n, size=max_samples, replace=False))
    loader = DataLoader(dataset, batch_size=batch_size,
                        sampler=[int(i) for i in indices],
                        num_workers=num_workers, collate_fn=pseudo_collate)
    feats: List[np.ndarray] = []
    labels: List[int] = []
    methods: List[str] = []
    paths: List[str] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for data in tqdm(loader, desc='features', unit='batch',
                             disable=not progress):
                data = model.data_preprocessor(data, False)
                feats.append(pre_logits(model, data['inputs']).cpu().numpy())
                for ds in data['data_samples']:
                    labels.append(int(ds.gt_label.reshape(-1)[0]))
                    meta = ds.metainfo
                    methods.append(str(meta.get('method') or (
                        'real' if labels[-1] == 0 else 'fake')))
                    paths.append(str(meta.get('img_path', '')))
    finally:
        model.train(was_training)
    return dict(features=np.concatenate(feats).astype(np.float32),
                labels=np.asarray(labels, np.int64), methods=methods,
                img_paths=paths, indices=indices.astype(np.int64))


def run_tsne(features: np.ndarray, perplexity: float = 30.,
             seed: int = 0, pca_dims: Optional[int] = 50,
             log: Callable[[str], None] = print) -> Dict:
    """Embed features in 2-D with sklearn's t-SNE.

    Features with more than ``pca_dims`` dimensions are first reduced by
    PCA (the usual t-SNE practice); a perplexity that is too large for the
    number of samples is lowered to ``(N - 1) / 3``.

    Args:
        features (np.ndarray): (N, D), N >= 4.
        perplexity (float): Defaults to 30.
        seed (int): ``random_state`` of PCA and t-SNE. Defaults to 0.
        pca_dims (int, optional): None or 0 disables PCA. Defaults to 50.
        log (callable): Defaults to print.

    Returns:
        dict: ``embedding`` (N, 2) float32, ``perplexity`` (the one used),
        ``pca_dims`` (None if no PCA), ``kl_divergence``.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    x = np.asarray(features, np.float64)
    if x.ndim != 2 or x.shape[0] < 4:
        raise ValueError(f't-SNE needs at least 4 samples as (N, D), got '
                         f'shape {x.shape}')
    if not np.isfinite(x).all():
        raise ValueError('the features contain NaN or inf')
    if perplexity <= 0:
        raise ValueError(f'perplexity must be > 0, got {perplexity}')
    n = x.shape[0]
    used_pca = None
    if pca_dims and x.shape[1] > pca_dims and n > pca_dims:
        x = PCA(n_components=pca_dims, random_state=seed).fit_transform(x)
        used_pca = int(pca_dims)
    limit = (n - 1) / 3.
    if perplexity > limit:
        log(f'perplexity {perplexity:g} is too large for {n} samples; '
            f'using {limit:.3g}')
        perplexity = limit
    tsne = TSNE(n_components=2, perplexity=perplexity, init='pca',
                learning_rate='auto', random_state=seed)
    emb = tsne.fit_transform(x)
    return dict(embedding=emb.astype(np.float32),
                perplexity=float(perplexity), pca_dims=used_pca,
                kl_divergence=float(tsne.kl_divergence_))


def plot_embedding(embedding: np.ndarray,
                   labels: Sequence[int],
                   methods: Sequence[str],
                   classes: Sequence[str] = ('real', 'fake'),
                   title: Optional[str] = None,
                   fig_size: Sequence[float] = (6., 6.),
                   dpi: int = 150,
                   point_size: float = 18.) -> bytes:
    """Scatter plot of a 2-D embedding as PNG bytes.

    Points are coloured by label and marked by method; the image is exactly
    ``fig_size * dpi`` pixels.

    Args:
        embedding (np.ndarray): (N, 2).
        labels (Sequence[int]): N labels (0 real, 1 fake).
        methods (Sequence[str]): N method names.
        classes (Sequence[str]): Label names. Defaults to
            ``('real', 'fake')``.
        title (str, optional): Figure title.
        fig_size (Sequence[float]): Inches (width, height).
            Defaults to (6, 6).
        dpi (int): Defaults to 150.
        point_size (float): Marker area. Defaults to 18.
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend
    emb = np.asarray(embedding)
    labels = np.asarray(labels)
    if emb.ndim != 2 or emb.shape[1] != 2 or len(emb) != len(labels) or \
            len(labels) != len(methods):
        raise ValueError(f'embedding {emb.shape}, {len(labels)} labels and '
                         f'{len(methods)} methods do not match')
    # Reals first in the legend, then methods in order of appearance.
    order: List[str] = []
    for lab, m in sorted(zip(labels.tolist(), methods),
                         key=lambda t: t[0]):
        if m not in order:
            order.append(m)
    fig = Figure(figsize=tuple(fig_size), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    methods_arr = np.asarray(methods, dtype=object)
    for j, m in enumerate(order):
        for lab in np.unique(labels):
            sel = (methods_arr == m) & (labels == lab)
            if not sel.any():
                continue
            cls = classes[lab] if 0 <= lab < len(classes) else str(lab)
            name = m if m == cls else f'{m} ({cls})'
            ax.scatter(emb[sel, 0], emb[sel, 1], s=point_size,
                       c=LABEL_COLORS[int(lab) % len(LABEL_COLORS)],
                       marker=METHOD_MARKERS[j % len(METHOD_MARKERS)],
                       alpha=0.75, linewidths=0, label=name)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(loc='best', fontsize='small', framealpha=0.8)
    if title:
        ax.set_title(title, fontsize='medium')
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=dpi)
    return buf.getvalue()


def output_paths(out_png: str) -> Dict[str, str]:
    """``png``, ``npz`` and ``json`` outputs beside ``out_png``."""
    stem = osp.splitext(out_png)[0]
    return dict(png=out_png, npz=stem + '.npz', json=stem + '.json')


def tsne_plot(config,
              checkpoint: Optional[str],
              out: str,
              ann_file: Optional[str] = None,
              data_root: Optional[str] = None,
              max_samples: Optional[int] = None,
              perplexity: float = 30.,
              seed: int = 0,
              pca_dims: Optional[int] = 50,
              device: Optional[str] = None,
              cfg_options=None,
              batch_size: int = 16,
              num_workers: int = 0,
              fig_size: Sequence[float] = (6., 6.),
              dpi: int = 150,
              title: Optional[str] = None,
              overwrite: bool = False,
              progress: bool = True,
              log: Callable[[str], None] = print) -> Dict:
    """Features of a trained model over a test set, t-SNE, plot.

    Writes (atomically) ``out`` (PNG), ``<stem>.npz`` (``embedding``,
    ``features``, ``labels``, ``methods``, ``img_paths``) and
    ``<stem>.json`` (the points and the settings).

    Args:
        config (str | Config): Model config.
        checkpoint (str, optional): Checkpoint; None keeps random weights.
        out (str): Output PNG path.
        ann_file (str, optional): Test annotation; defaults to the config's
            ``test_dataloader`` one.
        data_root (str, optional): Overrides the config's data root.
        max_samples (int, optional): Random subset size (``seed``).
        perplexity (float): t-SNE perplexity. Defaults to 30.
        seed (int): Subset, PCA and t-SNE seed. Defaults to 0.
        pca_dims (int, optional): PCA before t-SNE. Defaults to 50.
        device (str, optional): Defaults to CUDA when present, else CPU.
        cfg_options (dict | list[str], optional): Config overrides.
        batch_size (int): Defaults to 16.
        num_workers (int): Defaults to 0.
        fig_size (Sequence[float]): Inches. Defaults to (6, 6).
        dpi (int): Defaults to 150.
        title (str, optional): Defaults to the config name.
        overwrite (bool): Replace existing outputs. Defaults to False.
        progress (bool): Progress bar. Defaults to True.
        log (callable): Defaults to print.

    Returns:
        dict: ``png``, ``embedding`` (npz path), ``json``, ``num_samples``,
        ``feature_dim``, ``perplexity``.

    Raises:
        FileExistsError: an output exists and not ``overwrite``.
    """
    from mmfocus.apis import init_model
    from mmfocus.utils.io import atomic_write, atomic_write_json
    if not str(out).lower().endswith('.png'):
        raise ValueError(f'--out must be a .png file, got {out}')
    paths = output_paths(out)
    if not overwrite:
        for p in paths.values():
            if osp.exists(p):
                raise FileExistsError(f'output exists: {p} (pass '
                                      '--overwrite to replace it)')
    model = init_model(config, checkpoint, device=device or default_device(),
                       cfg_options=cfg_options)
    dataset = build_dataset(model.cfg, ann_file, data_root)
    data = extract_features(model, dataset, max_samples=max_samples,
                            seed=seed, batch_size=batch_size,
                            num_workers=num_workers, progress=progress)
    res = run_tsne(data['features'], perplexity=perplexity, seed=seed,
                   pca_dims=pca_dims, log=log)
    classes = tuple(dataset.metainfo.get('classes', ('real', 'fake')))
    if title is None and isinstance(config, str):
        title = osp.splitext(osp.basename(config))[0]
    png = plot_embedding(res['embedding'], data['labels'], data['methods'],
                         classes=classes, title=title, fig_size=fig_size,
                         dpi=dpi)
    buf = io.BytesIO()
    np.savez_compressed(buf, embedding=res['embedding'],
                        features=data['features'], labels=data['labels'],
                        methods=np.asarray(data['methods']),
                        img_paths=np.asarray(data['img_paths']),
                        indices=data['indices'])
    atomic_write(paths['npz'], buf.getvalue(), overwrite=overwrite)
    points = [dict(img_path=p, label=int(lab), method=m, x=float(e[0]),
                   y=float(e[1]))
              for p, lab, m, e in zip(data['img_paths'], data['labels'],
                                      data['methods'], res['embedding'])]
    meta = dict(config=config if isinstance(config, str) else None,
                checkpoint=checkpoint,
                ann_file=getattr(dataset, 'ann_file', None),
                model=type(model).__name__, classes=list(classes),
                num_samples=len(points),
                feature_dim=int(data['features'].shape[1]),
                perplexity=res['perplexity'], pca_dims=res['pca_dims'],
                seed=seed, kl_divergence=res['kl_divergence'])
    atomic_write_json(paths['json'], dict(meta, points=points),
                      overwrite=overwrite)
    atomic_write(paths['png'], png, overwrite=overwrite)
    counts = {m: data['methods'].count(m) for m in dict.fromkeys(
        data['methods'])}
    log(f't-SNE of {len(points)} samples ({json.dumps(counts)}), '
        f'{meta["feature_dim"]}-d {meta["model"]} features -> {paths["png"]}'
        f' (embedding: {paths["npz"]}, {paths["json"]})')
    return dict(png=paths['png'], embedding=paths['npz'], json=paths['json'],
                num_samples=len(points), feature_dim=meta['feature_dim'],
                perplexity=res['perplexity'])
