#!/usr/bin/env bash
# Install Debian's `chromium` (headless) and `chromium-driver` for the browser
# tests: the HTML report (tests/test_tools/test_report*.py, chromium only) and
# the app (tests/test_app/test_app_browser.py, Selenium + chromedriver).
# Idempotent: installs only what is missing. Without root or apt it only says
# what to do and exits 0: the browser tests are then skipped with that reason.
#   bash .dev_scripts/setup_browser.sh
#   MMFOCUS_CHROMIUM=/path/to/chromium MMFOCUS_CHROMEDRIVER=/path/to/chromedriver \
#       pytest tests/test_app
set -euo pipefail
have_chromium=0
have_driver=0
if [ -n "${MMFOCUS_CHROMIUM:-}" ] && [ -x "${MMFOCUS_CHROMIUM}" ]; then
  echo "[setup_browser] using MMFOCUS_CHROMIUM=${MMFOCUS_CHROMIUM}"
  have_chromium=1
else
  for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then
      echo "[setup_browser] found $(command -v "$b"): $("$b" --version 2>/dev/null || echo '?')"
      have_chromium=1
      break
    fi
  done
fi
if [ -n "${MMFOCUS_CHROMEDRIVER:-}" ] && [ -x "${MMFOCUS_CHROMEDRIVER}" ]; then
  echo "[setup_browser] using MMFOCUS_CHROMEDRIVER=${MMFOCUS_CHROMEDRIVER}"
  have_driver=1
elif command -v chromedriver >/dev/null 2>&1; then
  echo "[setup_browser] found $(command -v chromedriver)"
  have_driver=1
fi
[ "$have_chromium$have_driver" = 11 ] && exit 0
pkgs=()
[ "$have_chromium" = 0 ] && pkgs+=(chromium)
[ "$have_driver" = 0 ] && pkgs+=(chromium-driver)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup_browser] installing Debian's ${pkgs[*]} (apt-get, ~100 MB)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  echo "[setup_browser] ready: $(chromium --version 2>/dev/null)"
else
  cat >&2 <<MSG
[setup_browser] ${pkgs[*]} not installed and cannot be installed here
  (needs root and apt-get). On Debian/Ubuntu run as root:
      apt-get update && apt-get install -y --no-install-recommends ${pkgs[*]}
  or point MMFOCUS_CHROMIUM / MMFOCUS_CHROMEDRIVER at the binaries. Until
  then the headless-browser tests are skipped.
MSG
fi
