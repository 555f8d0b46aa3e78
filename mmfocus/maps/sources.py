# Copyright (c) mmfocus contributors.
"""Map sources as registered classes (``MAP_SOURCES``).

A map source turns face crops into float32 ``(h, w)`` maps in [0, 1] at the
crop size. Each is one class that says what it needs:

- ``needs_twin``: the real twin of each fake (``pair_path``): the
  comparison sources ``ssim``, ``pixdiff``, ``pixdiff-thr0.1`` (here);
- ``needs_model``: a trained model object, checked by :meth:`check_model`
  before any work: ``focus``, ``attention``, ``gradcam``, ``scorecam``
  (registered in :mod:`mmfocus.apis.map_sources`, beside the inference API
  that runs the model).

Adding a source = registering one class (see
``docs/en/advanced_guides/add_map_sources.md``); ``generate_maps``, the map
protocol, the comparison sheet and ``tools/generate_maps.py`` find it by
name.

Example:
    >>> from mmfocus.maps.sources import build_map_source
    >>> src = build_map_source('ssim')
    >>> [m] = src.compute([fake_bgr], twins=[real_bgr])
"""
import contextlib
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmfocus.registry import MAP_SOURCES
from .comparison import pixel_diff_map, ssim_map


class BaseMapSource:
    """One map source.

    Subclasses set :attr:`needs_twin` / :attr:`needs_model` and implement
    :meth:`maps`; :meth:`compute` checks the inputs and resizes each map to
    its crop.
    """
    #: The maps compare each fake with its real twin (``pair_path``).
    needs_twin: bool = False
    #: The maps come from a model (``model=`` / ``<config> <checkpoint>``).
    needs_model: bool = False
    #: What model it takes, for messages and docs.
    model_kind: str = ''

    @property
    def name(self) -> str:
        """The registered name (as built by :func:`build_map_source`)."""
        name = getattr(self, '_registered_name', None)
        if name is None:
            MAP_SOURCES.import_from_location()
            name = next((k for k, v in MAP_SOURCES.module_dict.items()
                         if v is type(self)), type(self).__name__)
        return name

    def check_model(self, model) -> None:
        """Raise ValueError if ``model`` cannot give this source's maps
        (None where a model is needed)."""
        if self.needs_model and model is None:
            raise ValueError(f'source "{self.name}" needs a model '
                             f'({self.model_kind}: --config and '
                             '--checkpoint)')

    def maps(self, imgs: Sequence[np.ndarray],
             twins: Optional[Sequence[np.ndarray]] = None, model=None,
             batch_size: int = 16) -> List[np.ndarray]:
        """Maps of BGR uint8 crops, at any size (resized by
        :meth:`compute`)."""
        raise NotImplementedError

    def compute(self, imgs: Sequence[np.ndarray],
                twins: Optional[Sequence[np.ndarray]] = None, model=None,
                batch_size: int = 16,
                amp: Optional[str] = None) -> List[np.ndarray]:
        """Maps of BGR uint8 crops, each float32 ``(h, w)`` in [0, 1] at its
        crop's size (resized bilinearly where the source gives another
        size, e.g. a model's input size).

        Args:
            imgs (Sequence[np.ndarray]): Face crops.
            twins (Sequence[np.ndarray], optional): Their real twins, each
                of its crop's shape; required when :attr:`needs_twin`.
            model (nn.Module, optional): Required when :attr:`needs_model`.
            batch_size (int): Crops per forward pass. Defaults to 16.
            amp (str, optional): ``'bf16'`` or ``'fp16'``: a model source
                runs its model under ``torch.autocast`` on the model's
                device (:func:`amp_context`); the maps are float32 either
                way. Ignored by the sources without a model. Defaults to
                None (fp32).
        """
        if self.needs_twin:
            if twins is None or len(twins) != len(imgs):
                raise ValueError(f'source "{self.name}" needs the real twin '
                                 'of every crop')
        if self.needs_model:
            self.check_model(model)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        with amp_context(model if self.needs_model else None, amp):
            maps = self.maps(imgs, twins, model, batch_size)
        out = []
        for img, m in zip(imgs, maps):
            m = np.nan_to_num(np.asarray(m, np.float32))
            h, w = img.shape[:2]
            if m.shape != (h, w):
                m = cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)
            out.append(np.clip(m, 0., 1.).astype(np.float32))
        return out


@MAP_SOURCES.register_module('ssim')
class SSIMMap(BaseMapSource):
    """``1 - SSIM`` against the real twin (:func:`ssim_map`)."""
    needs_twin = True

    def maps(self, imgs, twins=None, model=None, batch_size=16):
        return [ssim_map(f, r) for f, r in zip(imgs, twins)]


@MAP_SOURCES.register_module('pixdiff')
class PixelDiffMap(BaseMapSource):
    """Mean absolute difference / 255 against the twin, optionally
    binarised at ``thr`` (:func:`pixel_diff_map`)."""
    needs_twin = True
    thr: Optional[float] = None

    def maps(self, imgs, twins=None, model=None, batch_size=16):
        return [pixel_diff_map(f, r, thr=self.thr)
                for f, r in zip(imgs, twins)]


@MAP_SOURCES.register_module('pixdiff-thr0.1')
class ThresholdedPixelDiffMap(PixelDiffMap):
    """The pixel difference thresholded at 0.1 (the paper's variant)."""
    thr = 0.1


#: ``amp`` of :meth:`BaseMapSource.compute`: autocast dtype names.
AMP_DTYPES = ('bf16', 'fp16')


def amp_context(model, amp: Optional[str]):
    """``torch.autocast`` on ``model``'s device with ``amp`` (``'bf16'`` /
    ``'fp16'``), or a null context for None / ``'none'`` (or no model)."""
    if amp in (None, 'none') or model is None:
        return contextlib.nullcontext()
    if amp not in AMP_DTYPES:
        raise ValueError(f"amp must be one of {AMP_DTYPES}, 'none' or None, "
                         f'got {amp!r}')
    import torch
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device('cpu')
    dtype = torch.bfloat16 if amp == 'bf16' else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _names() -> Tuple[str, ...]:
    # module_dict, not get(): mmengine reads a dot in a name as a scope
    # ("pixdiff-thr0.1")
    MAP_SOURCES.import_from_location()
    return tuple(sorted(MAP_SOURCES.module_dict))


def map_source_names(needs_twin: Optional[bool] = None,
                     needs_model: Optional[bool] = None) -> Tuple[str, ...]:
    """Names of the registered map sources, optionally filtered.

    Example:
        >>> map_source_names(needs_twin=True)
        ('pixdiff', 'pixdiff-thr0.1', 'ssim')
    """
    out = []
    for name in _names():
        cls = MAP_SOURCES.module_dict[name]
        if needs_twin is not None and cls.needs_twin != needs_twin:
            continue
        if needs_model is not None and cls.needs_model != needs_model:
            continue
        out.append(name)
    return tuple(out)


def map_source_class(name: str) -> type:
    """The class registered as ``name``; ValueError listing the known
    names otherwise."""
    names = _names()
    if name not in names:
        raise ValueError(f'unknown map source {name!r}; one of '
                         f'{", ".join(names)}')
    return MAP_SOURCES.module_dict[name]


def build_map_source(source, **kwargs) -> BaseMapSource:
    """A map source from its name or a ``dict(type=name, **options)``.

    Args:
        source (str | dict | BaseMapSource): Name, config or instance.
        **kwargs: Options for the source's constructor (e.g.
            ``target_layer`` for GradCAM).
    """
    if isinstance(source, BaseMapSource):
        return source
    if isinstance(source, dict):
        cfg = dict(source)
        name = cfg.pop('type', None)
        kwargs = {**cfg, **kwargs}
    else:
        name = source
    cls = map_source_class(name)
    try:
        obj = cls(**kwargs)
    except TypeError as e:
        raise TypeError(f'map source "{name}": {e}') from None
    obj._registered_name = name
    return obj
