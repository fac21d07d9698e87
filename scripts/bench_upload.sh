#!/usr/bin/env bash
# Upload benchmark (`make bench`): N generated 512x512 PNGs (default 2000) uploaded over HTTP to `tessera serve`
# (SQLite) by 8 concurrent clients, then paged through 100 at a time. Anchor in the same run: `tessera import`
# of the same files from disk into a fresh workspace (same decode, hash, focus and catalog work, no HTTP).
#   scripts/bench_upload.sh [BUILD]
# Environment: TESSERA_BENCH_UPLOAD_IMAGES=N (default 2000; TESSERA_BENCH_SMOKE=1: 100), TESSERA_BENCH_UPLOAD_CLIENTS=8.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
default_n=2000
[ "${TESSERA_BENCH_SMOKE:-0}" = 1 ] && default_n=100
n=${TESSERA_BENCH_UPLOAD_IMAGES:-$default_n}
clients=${TESSERA_BENCH_UPLOAD_CLIENTS:-8}
tessera="$build/cli/tessera"
gen="$build/bench/tessera_bench_gen"
client="$build/bench/tessera_bench_upload_client"
for tool in "$tessera" "$gen" "$client"; do [ -x "$tool" ] || { echo "bench_upload: $tool is missing: build first" >&2; exit 1; }; done

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== upload benchmark: $n PNGs of 512x512, $clients clients =="
"$gen" "$work/png" "$n" --size 512 >/dev/null
"$tessera" init "$work/ws" >/dev/null
export TESSERA_DIR="$work/ws"
echo "bench-password" | "$tessera" user add bench --password-stdin --role editor >/dev/null
token=$("$tessera" user token bench)
"$tessera" serve --port 0 --host 127.0.0.1 > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "http://" "$work/serve.log" && break; sleep 0.1; done
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.log" | head -1)
[ -n "$port" ] || { cat "$work/serve.log"; exit 1; }
project=$(/usr/bin/python3 -c '
import json, sys, urllib.request
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/api/v1/me", headers={"Authorization": "Bearer " + sys.argv[2]})
print([p["id"] for p in json.load(urllib.request.urlopen(req))["projects"] if p["name"] == "default"][0])' "$port" "$token")
upload_line=$("$client" 127.0.0.1 "$port" "$token" "$project" "$work/png" "$clients" | tee /dev/stderr | grep '^upload:')
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=

"$tessera" init "$work/ws2" >/dev/null
start=$(date +%s.%N)
TESSERA_DIR="$work/ws2" "$tessera" import "$work/png" >/dev/null 2>&1
end=$(date +%s.%N)
import_rate=$(echo "$n / ($end - $start)" | bc -l)
upload_rate=$(echo "$upload_line" | sed -n 's/.*: \([0-9.]*\) images\/s.*/\1/p')
printf 'anchor: tessera import of the same files from disk: %.1f images/s\n' "$import_rate"
printf 'upload over HTTP / import from disk: %.2fx (goal: >= 200 images/s over HTTP)\n' "$(echo "$upload_rate / $import_rate" | bc -l)"
