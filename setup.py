# Copyright (c) mmfocus contributors.
"""mmfocus: an OpenMMLab toolbox for face forgery detection with learned
manipulation maps (FoCus). No compile step.

The tested versions are pinned in requirements/constraints.txt; the ranges
below are what pip may resolve. mmengine / mmcv-lite / mmpretrain / mmseg are
installed --no-deps by tools/setup_env.sh (see requirements/openmmlab.txt for
why).
"""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

# what a wheel carries in mmfocus/.mim (mmpretrain's layout; mim looks there
# for configs, tools and model-index.yml)
MIM_FILES = ('configs', 'tools', 'model-index.yml')


class BuildPyWithMim(build_py):
    """build_py that also copies :data:`MIM_FILES` into
    ``<build_lib>/mmfocus/.mim``, so ``pip wheel .`` gives a wheel that
    carries the configs and tools, without writing into the source tree.
    Editable installs skip it: there ``mmfocus.find_config`` and the tools
    read the checkout's own ``configs/`` and ``tools/``."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        here = osp.dirname(osp.abspath(__file__))
        dst_root = osp.join(self.build_lib, 'mmfocus', '.mim')
        if osp.isdir(dst_root):
            shutil.rmtree(dst_root)
        os.makedirs(dst_root)
        ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
        for name in MIM_FILES:
            src = osp.join(here, name)
            if not osp.exists(src):
                raise FileNotFoundError(
                    f'{src} is missing: a wheel must carry it (an sdist '
                    'lists it in MANIFEST.in)')
            dst = osp.join(dst_root, name)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=ignore)
            else:
                shutil.copy2(src, dst)


def read_requirements(name):
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    out = []
    with open(path) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                out.append(line)
    return out


def version():
    ns = {}
    with open(osp.join(osp.dirname(__file__), 'mmfocus', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='mmfocus',
    version=version(),
    description='Face forgery detection with learned manipulation maps '
    '(FoCus) on OpenMMLab',
    long_description=open('README.md').read() if osp.exists('README.md')
    else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'demo')),
    include_package_data=True,
    package_data={
        'mmfocus': ['datasets/splits/*/*.json', 'datasets/splits/*/*.md',
                    'visualization/report/*.html', 'app/static/*']
    },
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'openmmlab': read_requirements('openmmlab.txt') +
        read_requirements('openmmlab-deps.txt'),
        'faces': read_requirements('faces.txt'),
        'app': read_requirements('app.txt'),
        'tests': read_requirements('tests.txt'),
    },
    cmdclass={'build_py': BuildPyWithMim},
    zip_safe=False,
)
