#!/usr/bin/env bash
# Runs a real PostgreSQL server on loopback for tests and development: installs Debian's postgresql
# when missing, keeps its own cluster in /var/tmp/failsafe-postgres, creates the databases asked
# for. Idempotent; a second start takes about a second.
#
#   scripts/postgres.sh start [DB ...]   # default DB: failsafe
#   scripts/postgres.sh stop
#   scripts/postgres.sh status
#
# Environment: FAILSAFE_DEV_PG_PORT (default 15432), FAILSAFE_DEV_PG_DIR (default /var/tmp/failsafe-postgres).
# URL of a database: postgresql+asyncpg://failsafe:failsafe@127.0.0.1:$PORT/DB
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${FAILSAFE_DEV_PG_PORT:-15432}
# Outside the checkout: the postgres user must be able to reach it whatever the clone's path.
dir=${FAILSAFE_DEV_PG_DIR:-/var/tmp/failsafe-postgres}
data=$dir/data-$port

say() { printf 'postgres: %s\n' "$*" >&2; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  if [ -n "$(bindir)" ] && [ -x "$(bindir)/initdb" ]; then return; fi
  say "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  # Debian's package starts its own cluster on 5432; we run ours and leave that one alone.
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_() { as_pg "$(bindir)/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

start() {
  install
  local bin; bin=$(bindir)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating cluster in $data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 200
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null \
      || { say "start failed:"; tail -20 "$data/server.log" >&2; exit 1; }
  fi
  psql_ -d postgres -c "select 1" >/dev/null
  if [ "$(psql_ -d postgres -c "select 1 from pg_roles where rolname='failsafe'")" != 1 ]; then
    psql_ -d postgres -c "create role failsafe login superuser password 'failsafe'"
  fi
  for db in "${@:-failsafe}"; do
    if [ "$(psql_ -d postgres -c "select 1 from pg_database where datname='$db'")" != 1 ]; then
      psql_ -d postgres -c "create database \"$db\" owner failsafe"
    fi
  done
  say "ready on 127.0.0.1:$port"
}

stop() {
  local bin; bin=$(bindir)
  if [ -n "$bin" ] && [ -f "$data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null && say "stopped"
  else
    say "not running"
  fi
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) as_pg "$(bindir)/pg_ctl" -D "$data" status ;;
  *) echo "usage: $0 start [DB...]|stop|status" >&2; exit 2 ;;
esac
