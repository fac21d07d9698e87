#!/usr/bin/env bash
# Runs every test: starts a private PostgreSQL cluster (scripts/pg-test-server.sh) so the catalog suites run
# on both backends, runs ctest, and stops the cluster whatever happens.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)

url=$("$here/pg-test-server.sh" start)
trap '"$here/pg-test-server.sh" stop' EXIT
export TESSERA_TEST_PG_URL="$url"
echo "test: PostgreSQL test server at $url"

ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600
