#!/usr/bin/env bash
# Set up the environment (once) and run the whole test suite on CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
# headless Chromium for the HTML report test (Debian's chromium; skipped when
# it cannot be installed)
bash tools/setup_browser.sh
VENV=${VENV:-"$ROOT/.venv"}
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-}
exec "$VENV/bin/python" -m pytest -q tests "$@"
