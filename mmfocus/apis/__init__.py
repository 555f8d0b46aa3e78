from .runner import build_runner, load_config
from .inference import inference_model, init_model
from .inferencer import FocusInferencer

__all__ = ['build_runner', 'load_config']
__all__ += ['init_model', 'inference_model', 'FocusInferencer']
