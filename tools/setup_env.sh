#!/usr/bin/env bash
# Create (or reuse) the project virtualenv .venv with the tested package set.
# Idempotent: a stamp of requirements/* skips the work when nothing changed.
#   bash tools/setup_env.sh            # -> .venv
#   VENV=/path/to/venv bash tools/setup_env.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV=${VENV:-"$ROOT/.venv"}
PY=${PYTHON:-python3}
STAMP="$VENV/.mmfocus-requirements.sha"
want=$(cat requirements/*.txt setup.py | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
echo "[setup_env] creating $VENV (torch is a large wheel: a few minutes the first time)"
"$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check -c requirements/constraints.txt)
"${PIP[@]}" torch torchvision
"${PIP[@]}" -r requirements/runtime.txt -r requirements/openmmlab-deps.txt \
  -r requirements/faces.txt -r requirements/app.txt -r requirements/tests.txt \
  -r requirements/docs.txt
# mmengine/mmcv-lite declare the GUI opencv-python; mmpretrain/mmseg would pull
# the compiled mmcv (no wheel): their real dependencies are installed above.
"${PIP[@]}" --no-deps -r requirements/openmmlab.txt
"${PIP[@]}" --no-deps --no-build-isolation -e .
echo "$want" > "$STAMP"
echo "[setup_env] ready: $VENV"
