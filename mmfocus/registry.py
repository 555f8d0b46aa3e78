# Copyright (c) mmfocus contributors.
"""mmfocus registries, children of mmengine's root registries.

mmengine imports ``<scope>.registry`` when it switches to the ``mmfocus`` scope,
and each registry imports its ``locations`` lazily the first time it is queried,
so ``type='FoCus'`` resolves without the caller importing mmfocus.models.
Types from other OpenMMLab packages are reached through their scope prefix,
e.g. ``type='mmpretrain.EfficientNet'`` or ``type='mmseg.FPN'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS,
                   locations=['mmfocus.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mmfocus.engine'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS,
                 locations=['mmfocus.engine.hooks'])
LOG_PROCESSORS = Registry('log processor', parent=MMENGINE_LOG_PROCESSORS,
                          locations=['mmfocus.engine'])
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS,
                      locations=['mmfocus.engine'])
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS,
                          locations=['mmfocus.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmfocus.engine'])
PARAM_SCHEDULERS = Registry('parameter scheduler',
                            parent=MMENGINE_PARAM_SCHEDULERS,
                            locations=['mmfocus.engine'])

DATASETS = Registry('dataset', parent=MMENGINE_DATASETS,
                    locations=['mmfocus.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS,
                         locations=['mmfocus.datasets'])
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS,
                     locations=['mmfocus.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      locations=['mmfocus.datasets.transforms'])

MODELS = Registry('model', parent=MMENGINE_MODELS,
                  locations=['mmfocus.models'])
WEIGHT_INITIALIZERS = Registry('weight initializer',
                               parent=MMENGINE_WEIGHT_INITIALIZERS,
                               locations=['mmfocus.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS,
                          locations=['mmfocus.models'])

METRICS = Registry('metric', parent=MMENGINE_METRICS,
                   locations=['mmfocus.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR,
                     locations=['mmfocus.evaluation'])

VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS,
                       locations=['mmfocus.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS,
                       locations=['mmfocus.visualization'])

# Map sources (target / comparison maps): one class per source. The
# comparison sources live in mmfocus.maps, the model-driven ones beside the
# inference API that runs the model (mmfocus.apis.map_sources).
MAP_SOURCES = Registry(
    'map source', locations=['mmfocus.maps.sources',
                             'mmfocus.apis.map_sources'])

# Face detector backends (dlib HOG, RetinaFace from a local weight file, ...).
FACE_DETECTORS = Registry('face detector', locations=['mmfocus.faces'])
