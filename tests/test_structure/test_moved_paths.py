"""Public names that moved keep working from their old import paths for one
release, with a DeprecationWarning (docs/en/notes/changelog.md)."""
import importlib
import sys

import pytest

MOVED = [
    # (old module, name, new module)
    ('mmfocus.models.multitask', 'MultiTaskDetector',
     'mmfocus.models.classifiers'),
    ('mmfocus.models.utils.convert', 'convert_timm_vit',
     'mmfocus.models.converters'),
    ('mmfocus.models.multitask.convert', 'convert_efficientnet',
     'mmfocus.models.converters'),
    ('mmfocus.models.utils.modality', 'ModalityFilter',
     'mmfocus.models.data_preprocessors.modality_filters'),
]


@pytest.mark.parametrize('old,name,new', MOVED,
                         ids=[m[0] for m in MOVED])
def test_old_path_warns_and_gives_the_same_object(old, name, new):
    for mod in [m for m in sys.modules if m == old or
                m.startswith(old + '.')]:
        del sys.modules[mod]
    pkg = old.rsplit('.', 1)[0]
    if old.endswith('.convert') and pkg in sys.modules and \
            pkg.endswith('multitask'):
        del sys.modules[pkg]
    with pytest.warns(DeprecationWarning, match='moved'):
        mod = importlib.import_module(old)
    assert getattr(mod, name) is getattr(importlib.import_module(new), name)
