#!/usr/bin/env bash
# Debian's chromium for the dashboard's browser test (tests/e2e), installed only when missing.
# Playwright (from PyPI) drives it at /usr/bin/chromium; no browser is ever downloaded by Playwright.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium
