#!/usr/bin/env bash
# Install Debian's `chromium` (headless) for the HTML report test
# (tests/test_tools/test_report.py). Idempotent: does nothing when a
# chromium is already there. Without root or apt it only says what to do
# and exits 0: the browser test is then skipped with that reason.
#   bash .dev_scripts/setup_browser.sh
#   MMFOCUS_CHROMIUM=/path/to/chromium pytest tests/test_tools/test_report.py
set -euo pipefail
if [ -n "${MMFOCUS_CHROMIUM:-}" ] && [ -x "${MMFOCUS_CHROMIUM}" ]; then
  echo "[setup_browser] using MMFOCUS_CHROMIUM=${MMFOCUS_CHROMIUM}"
  exit 0
fi
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then
    echo "[setup_browser] found $(command -v "$b"): $("$b" --version 2>/dev/null || echo '?')"
    exit 0
  fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup_browser] installing Debian's chromium (apt-get, ~100 MB)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium
  echo "[setup_browser] ready: $(chromium --version 2>/dev/null)"
else
  cat >&2 <<'MSG'
[setup_browser] chromium is not installed and cannot be installed here
  (needs root and apt-get). On Debian/Ubuntu run as root:
      apt-get update && apt-get install -y --no-install-recommends chromium
  or point MMFOCUS_CHROMIUM at a Chromium/Chrome binary. Until then the
  headless-browser test of tools/report.py is skipped.
MSG
fi
