#!/usr/bin/env bash
# Builds the web UI into web/dist: installs web/node_modules from package-lock.json when it is missing or older
# than the lock, then type-checks and runs `vite build`. Idempotent: a second run with nothing changed only re-runs the build.
# Usage: scripts/build-web.sh            (TESSERA_SKIP_WEB=1 skips it, for machines without node;
#        TESSERA_WEB_DIST=DIR builds into DIR instead of web/dist, so concurrent test runs do not rebuild one another's UI)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
web=$root/web

if [ "${TESSERA_SKIP_WEB:-0}" = 1 ]; then
  echo "build-web: skipped (TESSERA_SKIP_WEB=1)"
  exit 0
fi
if ! command -v npm > /dev/null; then
  echo "build-web: npm not found; install nodejs and npm (scripts/install-deps.sh) or set TESSERA_SKIP_WEB=1" >&2
  exit 1
fi

cd "$web"
# npm writes node_modules/.package-lock.json; when package-lock.json is newer, the install is stale.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "build-web: installing node_modules from package-lock.json"
  # Not `npm ci`: the npm here writes locks without other platforms' optional packages (rollup's and
  # esbuild's native builds for Android, macOS, ...) and then `npm ci` refuses its own lock as out of sync.
  # `npm install` installs the same locked versions and leaves the lock as it is.
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
npx --no-install tsc --noEmit
dist=${TESSERA_WEB_DIST:-$web/dist}
npx --no-install vite build --logLevel warn --outDir "$dist" --emptyOutDir
echo "build-web: built $dist"
