from .io import (atomic_open, atomic_save_image, atomic_write,
                 atomic_write_json, imread_checked, load_json,
                 load_json_lines)
from .setup_env import register_all_modules

__all__ = [
    'atomic_open', 'atomic_write', 'atomic_write_json', 'atomic_save_image',
    'imread_checked', 'load_json', 'load_json_lines', 'register_all_modules'
]
