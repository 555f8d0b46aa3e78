# Copyright (c) mmfocus contributors.
"""mmfocus: an OpenMMLab toolbox for face forgery detection with learned
manipulation maps (FoCus). No compile step.

The tested versions are pinned in requirements/constraints.txt; the ranges
below are what pip may resolve. mmengine / mmcv-lite / mmpretrain / mmseg are
installed --no-deps by tools/setup_env.sh (see requirements/openmmlab.txt for
why).
"""
import os.path as osp

from setuptools import find_packages, setup


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
    zip_safe=False,
)
