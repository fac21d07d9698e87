#!/usr/bin/env bash
# Browser tests of the web UI (ctest web.e2e): builds web/dist if needed, makes a fresh workspace with a
# synthetic time-lapse imported through the CLI and an admin user, starts `tessera serve` on a free loopback
# port, runs every tests/web/*.spec.mjs under `node --test` (Chromium through playwright-core), and stops the
# server. Screenshots go to OUT/screenshots.
# Usage: tests/web/run.sh TESSERA_BINARY [OUT_DIR]      (extra: TESSERA_WEB_SPECS="a.spec.mjs b.spec.mjs",
#        TESSERA_WEB_DIST=DIR: build and serve the UI from DIR)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tessera=$(realpath "$1")
out=$(mkdir -p "${2:-$root/build/tests/web}" && cd "${2:-$root/build/tests/web}" && pwd)

bash "$root/scripts/build-web.sh"
dist=${TESSERA_WEB_DIST:-$root/web/dist}

# shellcheck source=serve.sh
source "$here/serve.sh"
work=$(mktemp -d /tmp/tessera-web-XXXXXX)
cleanup() {
  stop_web_server "$work/server.pid"
  rm -rf "$work"
}
trap cleanup EXIT

cd "$work"
"$tessera" synth timelapse data --positions 2 --frames 8 --size 256 --seed 1 > /dev/null
# Frames of another run, never imported: the specs upload these through the API as new images.
"$tessera" synth timelapse upload --positions 1 --frames 6 --size 256 --seed 2 > /dev/null
"$tessera" init workspace > /dev/null
export TESSERA_DIR=$work/workspace
"$tessera" import data/images --pattern '{experiment}/pos{position:int}/t{time:int}_c{channel:int}.png' \
  --series-by experiment,position --frame-by time > /dev/null
password="web-test-$RANDOM$RANDOM"
echo "$password" | "$tessera" user add admin --password-stdin --role owner > /dev/null

start_web_server "$tessera" "$dist" "$work"
port=$server_port
pidfile=$server_pidfile

export TESSERA_URL=http://127.0.0.1:$port TESSERA_ADMIN=admin TESSERA_PASSWORD=$password TESSERA_BIN=$tessera
export TESSERA_SCREENSHOTS=$out/screenshots TESSERA_SERVER_PIDFILE=$pidfile
export TESSERA_SERVE_ARGS="[\"$tessera\",\"serve\",\"--host\",\"127.0.0.1\",\"--port\",\"$port\",\"--web\",\"$dist\"]"
mkdir -p "$TESSERA_SCREENSHOTS"

specs=()
if [ -n "${TESSERA_WEB_SPECS:-}" ]; then
  for s in $TESSERA_WEB_SPECS; do specs+=("$here/$(basename "$s")"); done
else
  specs=("$here"/*.spec.mjs)
fi
# One spec file at a time: they share the server (and one of them stops and restarts it).
node --test --test-concurrency=1 --test-reporter=spec "${specs[@]}"
echo "web tests: screenshots in $TESSERA_SCREENSHOTS"
