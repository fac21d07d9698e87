#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for tests and benchmarks: initdb in a temp folder owned by the postgres
# user, listening only on 127.0.0.1 at its own port, so tests never touch a shared server.
#   scripts/pg-test-server.sh start   -> prints the URL (postgresql://tessera@127.0.0.1:PORT/tessera_test)
#   scripts/pg-test-server.sh stop
#   scripts/pg-test-server.sh url
# Environment: TESSERA_PG_DIR (default /tmp/tessera-pg), TESSERA_PG_PORT (default 55432).
set -euo pipefail

dir=${TESSERA_PG_DIR:-/tmp/tessera-pg}
port=${TESSERA_PG_PORT:-55432}
url="postgresql://tessera@127.0.0.1:${port}/tessera_test"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ]; then
  echo "pg-test-server: PostgreSQL is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; fi
}

start() {
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir"
    chown postgres: "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    # fsync off: a test cluster that dies is thrown away, and tests must not wait on the disk.
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null
  fi
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt -c \
    "SELECT 1 FROM pg_roles WHERE rolname='tessera'" | grep -q 1 ||
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE ROLE tessera LOGIN SUPERUSER"
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c \
    "SELECT 1 FROM pg_database WHERE datname='tessera_test'" | grep -q 1 ||
    as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE tessera_test OWNER tessera"
  echo "$url"
}

stop() {
  if [ -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
