#!/usr/bin/env bash
# Set up the environment (once) and run the whole test suite on CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
# headless Chromium for the HTML report test (Debian's chromium; skipped when
# it cannot be installed)
bash .dev_scripts/setup_browser.sh
VENV=${VENV:-"$ROOT/.venv"}
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-}
# yapf (imported by mmengine.config) pickles its grammar into ~/.cache/YAPF on
# the first import after an install, non-atomically: two test workers doing it
# at once can read a half-written file (EOFError at collection). Do it once,
# in one process, first.
"$VENV/bin/python" -c "import yapf" >/dev/null
# MMFOCUS_TEST_WORKERS=0 runs the tests in one process
exec "$VENV/bin/python" -m pytest -q -n "${MMFOCUS_TEST_WORKERS:-2}" tests "$@"
