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

say() { printf 'oidc: %s\n' "$*" >&2; }

fetch_jars() {
  if [ -f "$libs/.complete" ]; then return; fi
  command -v mvn >/dev/null || { say "mvn not found (install Debian's maven)"; exit 1; }
  command -v java >/dev/null || { say "java not found (install a JDK 17+)"; exit 1; }
  say "fetching provider jars from Maven Central into $libs (once)"
  rm -rf "$libs"
  mkdir -p "$dir"
  mvn -q -B -Dstyle.color=never -f "$root/deploy/oidc/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$libs" >"$dir/mvn.log" 2>&1 \
    || { say "mvn failed:"; cat "$dir/mvn.log" >&2; exit 1; }
  touch "$libs/.complete"
}

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

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
  for _ in $(seq 1 120); do
    if ! alive; then say "provider exited; last lines of $log:"; tail -30 "$log" >&2; exit 1; fi
    if ready; then say "ready on http://127.0.0.1:$port (pid $(cat "$pidfile"))"; return; fi
    sleep 0.5
  done
  say "not ready after 60 s; last lines of $log:"; tail -30 "$log" >&2; exit 1
}

stop() {
  if ! alive; then say "not running"; rm -f "$pidfile"; return; fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "stopped"; return; }
    sleep 0.5
  done
  say "did not stop in 20 s; killing"; kill -KILL "$pid" 2>/dev/null || true; rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if alive && ready; then say "running on 127.0.0.1:$port"; else say "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
