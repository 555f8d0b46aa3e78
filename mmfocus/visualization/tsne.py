# Copyright (c) mmfocus contributors.
"""t-SNE of a detector's features over a test set (the paper's Fig. 9).

The feature of a sample is what the model's classification head takes
(``extract_pre_logits``: the pooled backbone output of the multi-task
evaluation model, the fused token feature of FoCus; mmpretrain classifiers'
``extract_feat(inputs, stage='pre_logits')`` works too). sklearn's
:class:`~sklearn.manifold.TSNE` embeds them in 2-D; the plot colours points
by label (real / fake) and marks them by manipulation method (the
annotation's ``method`` field).

This module embeds and draws arrays; the features come from a model in
:mod:`mmfocus.apis.figures` (``extract_features``, ``tsne_plot``).

Example:
    >>> from mmfocus.apis.figures import tsne_plot
    >>> summary = tsne_plot('configs/focus/vit-demo_demo-sbi.py',
    ...                     'checkpoints/focus_vit-demo_demo-sbi.pth',
    ...                     'work_dirs/tsne/focus.png')
    >>> summary['embedding']        # work_dirs/tsne/focus.npz
"""
import io
import os.path as osp
from typing import Callable, Dict, Optional, Sequence

import numpy as np

# Label colours (real, fake) and the markers cycled over methods.
LABEL_COLORS = ('#1f77b4', '#d62728')
METHOD_MARKERS = ('o', '^', 's', 'D', 'v', 'P', 'X', '*', '<', '>', 'h', 'p')


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
