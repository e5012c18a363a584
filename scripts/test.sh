#!/usr/bin/env bash
# The whole test suite, from nothing: installs the project, starts a real PostgreSQL and a real
# Kafka broker (scripts/postgres.sh, scripts/kafka.sh), lints (ruff), type-checks (mypy), checks the
# import layering (import-linter), checks that migrations and models agree on PostgreSQL, and runs
# pytest. Services this script started are
# stopped when it ends (FAILSAFE_KEEP_SERVICES=1 keeps them for a faster next run).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -k mrz
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t0=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - t0 ))" >&2; }

step "install"
scripts/bootstrap.sh --dev
export PATH="$root/.venv/bin:$PATH"

pg_port=${FAILSAFE_DEV_PG_PORT:-15432}
kafka_port=${FAILSAFE_DEV_KAFKA_PORT:-19092}
started=()
cleanup() {
  if [ "${FAILSAFE_KEEP_SERVICES:-0}" != 1 ]; then
    for s in "${started[@]}"; do scripts/"$s".sh stop || true; done
  fi
}
trap cleanup EXIT

step "postgresql"
scripts/postgres.sh status >/dev/null 2>&1 || started+=(postgres)
scripts/postgres.sh start failsafe
step "kafka"
scripts/kafka.sh status >/dev/null 2>&1 || started+=(kafka)
scripts/kafka.sh start

step "ruff"
ruff check
step "mypy"
mypy
step "import-linter (the layering contracts in pyproject.toml)"
lint-imports

step "alembic upgrade head + check on PostgreSQL"
pg="postgresql://failsafe:failsafe@127.0.0.1:$pg_port"
db="failsafe_migrations_check"
psql "$pg/postgres" -qAt -c "drop database if exists $db with (force)" -c "create database $db" >/dev/null
export FAILSAFE_DATABASE__URL="${pg/postgresql:/postgresql+asyncpg:}/$db"
alembic upgrade head
alembic check
unset FAILSAFE_DATABASE__URL

scripts/chromium.sh  # Debian chromium for the dashboard browser test, when missing
scripts/promtool.sh  # Debian's prometheus for promtool (alert rules), when missing
step "pytest"
export FAILSAFE_TEST_PG="$pg" FAILSAFE_TEST_KAFKA="127.0.0.1:$kafka_port"
set +e
pytest -p no:cacheprovider "$@"
rc=$?
set -e
step "done (pytest exit $rc)"
exit $rc
