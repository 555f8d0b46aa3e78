# Sourced by the .dev_scripts/device/*.sh scripts (run from the repository
# root): on a GPU machine without the OpenMMLab packages, install the carried
# wheels (.whl/, made by .dev_scripts/device/gpu_wheels.sh) into /tmp/site and
# put it on PYTHONPATH.
PY=${PYTHON:-python3}
if ! "$PY" -c 'import mmengine' 2>/dev/null && [ -d .whl ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
