#!/usr/bin/env bash
# Debian's prometheus package for `promtool` (the alert rules' check and unit tests in
# tests/unit/test_observability.py), installed only when missing. Its service is not started.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null
