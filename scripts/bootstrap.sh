#!/usr/bin/env bash
# Installs the project into .venv with the locked dependencies (uv; installed with pip if missing).
#   scripts/bootstrap.sh          # runtime only
#   scripts/bootstrap.sh --dev    # with the test and lint tools
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv" >&2
  python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5" >&2 \
    || python3 -m pip install --quiet --user "uv>=0.5" >&2
  export PATH="$HOME/.local/bin:$PATH"
fi
extras=()
[ "${1:-}" = "--dev" ] && extras=(--extra dev)
uv sync --frozen --python "${FAILSAFE_PYTHON:-python3.11}" "${extras[@]}" >&2
