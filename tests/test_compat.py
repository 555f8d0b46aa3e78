"""mmfocus/compat.py fix 4: a transformers install that does not import
(version mismatch) must not break ``import mmpretrain.models``."""
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _broken_transformers(tmp_path):
    pkg = tmp_path / 'transformers'
    pkg.mkdir()
    (pkg / '__init__.py').write_text(
        "raise ImportError('simulated broken transformers')\n")
    meta = tmp_path / 'transformers-4.40.0.dist-info'
    meta.mkdir()
    (meta / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: transformers\nVersion: 4.40.0\n')
    return str(tmp_path)


def _run(code, path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([path, ROOT]))
    return subprocess.run([sys.executable, '-c', code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_broken_transformers_breaks_plain_mmpretrain(tmp_path):
    # the failure the fix exists for (seen on a GPU machine's image)
    proc = _run('import mmpretrain.models', _broken_transformers(tmp_path))
    assert proc.returncode != 0


def test_mmfocus_imports_mmpretrain_models_despite_broken_transformers(
        tmp_path):
    code = ('import mmfocus\n'
            'from mmfocus.utils import register_all_modules\n'
            'register_all_modules()\n'
            'import mmpretrain.models\n'
            'import mmpretrain.utils.dependency as d\n'
            'from mmpretrain.registry import MODELS\n'
            'assert d.WITH_MULTIMODAL is False\n'
            'assert MODELS.get("EfficientNet") is not None\n'
            'print("ok")\n')
    proc = _run(code, _broken_transformers(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith('ok')
