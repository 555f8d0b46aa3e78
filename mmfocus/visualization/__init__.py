from .overlay import colorize_map, overlay_map

__all__ = ['colorize_map', 'overlay_map']
