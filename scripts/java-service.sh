# Sourced by scripts/kafka.sh and scripts/oidc.sh: a Java program run on loopback for tests and
# development, its jars fetched once from Maven Central with mvn and cached in $libs.
# The caller sets root, dir, libs, pom, pidfile, log, port, what ("broker", "provider": for
# messages) and stop_wait (seconds before a kill), and defines say, ready and start; then
# calls `dispatch "$@"`.

fetch_jars() {
  if [ -f "$libs/.complete" ]; then return; fi
  command -v mvn >/dev/null || { say "mvn not found (install Debian's maven)"; exit 1; }
  command -v java >/dev/null || { say "java not found (install a JDK 17+)"; exit 1; }
  say "fetching $what jars from Maven Central into $libs (once)"
  rm -rf "$libs"
  mkdir -p "$dir"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$libs" >"$dir/mvn.log" 2>&1 \
    || { say "mvn failed:"; cat "$dir/mvn.log" >&2; exit 1; }
  touch "$libs/.complete"
}

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# After starting the process in the background (its pid in $pidfile): wait up to 60 s for
# `ready`; $1 is the address shown once it is.
wait_ready() {
  for _ in $(seq 1 120); do
    if ! alive; then say "$what exited; last lines of $log:"; tail -30 "$log" >&2; exit 1; fi
    if ready; then say "ready on $1 (pid $(cat "$pidfile"))"; return; fi
    sleep 0.5
  done
  say "not ready after 60 s; last lines of $log:"; tail -30 "$log" >&2; exit 1
}

stop() {
  if ! alive; then say "not running"; rm -f "$pidfile"; return; fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 $((stop_wait * 2))); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "stopped"; return; }
    sleep 0.5
  done
  say "did not stop in $stop_wait s; killing"; kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

dispatch() {
  case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if alive && ready; then say "running on 127.0.0.1:$port"; else say "not running"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
  esac
}
