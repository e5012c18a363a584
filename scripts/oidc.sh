#!/usr/bin/env bash
# Runs a real OpenID Connect provider (NAV's mock-oauth2-server, from Maven Central) on loopback for
# tests and development, as scripts/kafka.sh runs the broker: jars fetched once with
# deploy/oidc/pom.xml and cached in $DIR/libs; a second start takes seconds.
#
#   scripts/oidc.sh start    # idempotent: does nothing if our provider already answers
#   scripts/oidc.sh stop
#   scripts/oidc.sh status
#
# Environment: FAILSAFE_DEV_OIDC_PORT (default 29500), FAILSAFE_DEV_OIDC_DIR (default .cache/oidc),
# FAILSAFE_DEV_OIDC_CONFIG (the provider's JSON_CONFIG; default: deploy/oidc/config.json, with
# interactive login, which the dashboard's sign-in test drives). Issuers are
# http://127.0.0.1:PORT/ISSUER_ID (any id; tests and docs use `failsafe`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${FAILSAFE_DEV_OIDC_PORT:-29500}
dir=${FAILSAFE_DEV_OIDC_DIR:-$root/.cache/oidc}
config=${FAILSAFE_DEV_OIDC_CONFIG:-$root/deploy/oidc/config.json}
libs=$dir/libs
run=$dir/run-$port
pidfile=$run/oidc.pid
log=$run/oidc.log

what=provider
pom=$root/deploy/oidc/pom.xml
stop_wait=20
say() { printf 'oidc: %s\n' "$*" >&2; }
# shellcheck source=scripts/java-service.sh
. "$root/scripts/java-service.sh"

ready() {
  python3 - "$port" <<'PY' >/dev/null 2>&1
import sys, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/failsafe/.well-known/openid-configuration"
with urllib.request.urlopen(url, timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
}

start() {
  fetch_jars
  if alive && ready; then say "already running on 127.0.0.1:$port"; return; fi
  if alive; then kill "$(cat "$pidfile")" 2>/dev/null || true; sleep 1; fi
  mkdir -p "$run"
  SERVER_HOSTNAME=127.0.0.1 SERVER_PORT=$port JSON_CONFIG=$(cat "$config") LOG_LEVEL=WARN \
    nohup java -Xmx128m -Djava.awt.headless=true -cp "$libs/*" \
      no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt >"$log" 2>&1 &
  echo $! > "$pidfile"
  wait_ready "http://127.0.0.1:$port"
}

dispatch "$@"
