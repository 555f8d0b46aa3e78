#!/usr/bin/env bash
# Gather the wheels a GPU machine without OpenMMLab packages and without
# network needs (Python 3.12, torch/timm/numpy/opencv preinstalled).
#   bash .dev_scripts/device/gpu_wheels.sh [DIR]   (default .whl; git-ignored)
# On the machine:
#   python3 -m pip install -q --no-index --no-deps --no-compile \
#     --target /tmp/site DIR/*.whl && export PYTHONPATH=/tmp/site:$PWD
# importlib-metadata is pinned to 8.7.0: 10.x imports `lazy_importer`, which
# such machines lack (seen on an H200, 2026-11-26).
set -euo pipefail
dir=${1:-.whl}
mkdir -p "$dir"
plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
      --platform manylinux2014_x86_64 --platform manylinux_2_27_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${plat[@]}" -d "$dir" \
  mmengine==0.10.7 mmcv-lite==2.1.0 mmpretrain==1.2.0 mmsegmentation==1.2.2 \
  pycocotools==2.0.11 regex ftfy addict yapf termcolor yacs tabulate portalocker \
  mat4py modelindex model-index ordered-set platformdirs prettytable wcwidth \
  importlib-metadata==8.7.0
python3 -m pip wheel -q --no-deps -w "$dir" fvcore==0.1.5.post20221221 iopath==0.1.10 \
  grad-cam==1.5.7 ttach==0.0.3
ls "$dir" | wc -l
