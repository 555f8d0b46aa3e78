# Copyright (c) mmfocus contributors.
"""Drawing: map overlays, comparison sheets, t-SNE plots, the HTML report.

Everything here takes arrays (or annotation files); the model-driven
columns and features are in :mod:`mmfocus.apis.figures`.
"""
from .overlay import colorize_map, overlay_map
from .sheet import SheetLayout, map_sheet, render_sheet
from .tsne import plot_embedding, run_tsne

__all__ = ['colorize_map', 'overlay_map']
__all__ += ['SheetLayout', 'map_sheet', 'render_sheet']
__all__ += ['plot_embedding', 'run_tsne']
