from .overlay import colorize_map, overlay_map
from .sheet import SheetLayout, map_sheet, render_sheet
from .tsne import extract_features, plot_embedding, run_tsne, tsne_plot

__all__ = ['colorize_map', 'overlay_map']
__all__ += ['SheetLayout', 'map_sheet', 'render_sheet']
__all__ += ['extract_features', 'plot_embedding', 'run_tsne', 'tsne_plot']
