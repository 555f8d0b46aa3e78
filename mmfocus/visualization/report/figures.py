# Copyright (c) mmfocus contributors.
"""Figures of a test run: ROC curves, fake-score histograms, the map gallery.

Drawn with matplotlib's object API (``Figure`` + the Agg canvas, never
``pyplot``), so they work headless and leave no global state. Shared by
:class:`mmfocus.engine.hooks.ForgeryVisualizationHook` (during
``tools/test.py``) and the HTML report (:mod:`.page`).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfocus.evaluation.functional import video_level


def _new_figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def figure_to_rgb(fig) -> np.ndarray:
    """Render a matplotlib figure to an RGB uint8 array (H, W, 3)."""
    fig.canvas.draw()
    return np.ascontiguousarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])


def figure_to_png(fig) -> bytes:
    """Encode a matplotlib figure as PNG bytes."""
    ok, buf = cv2.imencode('.png', cv2.cvtColor(figure_to_rgb(fig),
                                                cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError('could not encode a figure as PNG')
    return buf.tobytes()


def has_video_level(video_ids: Sequence) -> bool:
    """Video-level results exist when every sample has a video id and at
    least one video has several frames (the rule of ``ForgeryMetric``)."""
    ids = list(video_ids)
    return bool(ids) and all(v is not None for v in ids) and \
        len(set(ids)) < len(ids)


def roc_curves(scores: Sequence[float], labels: Sequence[int],
               video_ids: Optional[Sequence] = None
               ) -> Dict[str, Tuple[np.ndarray, np.ndarray, float]]:
    """ROC curves (scikit-learn) at frame and, when possible, video level.

    Args:
        scores (Sequence[float]): Fake scores.
        labels (Sequence[int]): 0 real, 1 fake.
        video_ids (Sequence, optional): Video id per sample; frames are
            averaged per video (``mmfocus.evaluation.functional.
            video_level``). Defaults to None.

    Returns:
        dict: ``{'frame'|'video': (fpr, tpr, auc)}``; a level with a single
        class is left out.
    """
    from sklearn.metrics import auc, roc_curve

    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    levels = [('frame', scores, labels)]
    if video_ids is not None and has_video_level(video_ids):
        try:
            v_s, v_l, _ = video_level(scores, labels, video_ids)
        except ValueError:  # a video with real and fake frames
            pass
        else:
            levels.append(('video', v_s, v_l))
    out = {}
    for name, s, y in levels:
        if y.size and y.min() != y.max():
            fpr, tpr, _ = roc_curve(y, s)
            out[name] = (fpr, tpr, float(auc(fpr, tpr)))
    return out


def roc_figure(scores: Sequence[float], labels: Sequence[int],
               video_ids: Optional[Sequence] = None,
               title: str = 'ROC'):
    """A figure with the frame-level (and video-level) ROC curve.

    With a single class present the figure says so instead of a curve.
    """
    fig = _new_figure(4.6, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    curves = roc_curves(scores, labels, video_ids)
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, lw=2, label=f'{name} (AUC {100 * auc:.2f})')
    ax.plot([0, 1], [0, 1], ls='--', lw=1, color='0.6', label='chance')
    if not curves:
        ax.text(0.5, 0.5, 'ROC undefined:\nonly one class present',
                ha='center', va='center')
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel='false positive rate',
           ylabel='true positive rate', title=title)
    ax.legend(loc='lower right', fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def group_names(labels: Sequence[int],
                methods: Optional[Sequence] = None) -> List[str]:
    """Manipulation method of each sample, ``'real'``/``'fake'`` when a
    sample has none."""
    methods = list(methods) if methods is not None else [None] * len(labels)
    return [str(m) if m not in (None, '') else ('fake' if y else 'real')
            for m, y in zip(methods, labels)]


def histogram_figure(scores: Sequence[float], groups: Sequence[str],
                     title: str = 'fake score', bins: int = 20):
    """Overlaid fake-score histograms, one per group (class or method)."""
    fig = _new_figure(5.2, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(list(groups), dtype=object)
    edges = np.linspace(0, 1, bins + 1)
    # reals first, so that 'real' keeps the first colour in every plot
    for name in sorted(set(groups.tolist()), key=lambda g: (g != 'real', g)):
        sel = scores[groups == name]
        ax.hist(np.clip(sel, 0, 1), bins=edges, alpha=0.55,
                label=f'{name} (n={sel.size})')
    ax.set(xlim=(0, 1), xlabel='fake score', ylabel='samples', title=title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def gallery_figure(rows: Dict[str, List[dict]], tile: float = 1.5):
    """A grid of faces with their map overlays, one row per group.

    Args:
        rows (dict[str, list[dict]]): Row title -> items with ``image``
            (RGB uint8) and ``caption``.
        tile (float): Tile size in inches. Defaults to 1.5.
    """
    rows = {k: v for k, v in rows.items()}
    n_rows = max(len(rows), 1)
    n_cols = max([len(v) for v in rows.values()] + [1])
    fig = _new_figure(tile * n_cols + 0.6, (tile + 0.45) * n_rows)
    for r, (title, items) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = fig.add_subplot(n_rows, n_cols, r * n_cols + c + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if c < len(items):
                ax.imshow(items[c]['image'])
                ax.set_title(items[c]['caption'], fontsize=7)
            elif c == 0:
                ax.text(0.5, 0.5, 'none', ha='center', va='center')
            if c == 0:
                ax.set_ylabel(title, fontsize=9)
    fig.tight_layout()
    return fig
