#!/usr/bin/env bash
# Web UI benchmark (`make bench`): time to first tile and to interactive of the image browser in headless
# Chromium, on a project of 10,000 generated images (SMOKE: 500), served by `tessera serve` on loopback.
# The browser numbers are the app's Performance API marks (tessera:first-tile, tessera:interactive) from
# navigation start, over RUNS fresh browser contexts (empty cache; the first run also renders its thumbnails'
# tiles on the server, later runs find them cached). Anchors, measured in the same run by a plain client:
# the first page of the image list (with its count) plus one cold thumbnail tile; and the page's files and
# list page fetched with the browser's Accept-Encoding, which shows what the server's response compression
# costs. Prints medians, the goal (< 1500 ms to interactive on loopback) and the ratio browser / anchor.
# Exit status is non-zero only on errors, never on a missed goal.
#   scripts/bench_web.sh [BUILD]     Environment: TESSERA_BENCH_SMOKE=1, TESSERA_BENCH_WEB_IMAGES=N, RUNS=N
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
tessera="$build/cli/tessera"

die() { echo "bench_web: $*" >&2; exit 1; }
[ -x "$tessera" ] || die "$tessera is missing: build first (make build)"
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (scripts/install-deps.sh installs it)"

images=${TESSERA_BENCH_WEB_IMAGES:-10000}
runs=${RUNS:-5}
if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then images=500 runs=2; fi

bash "$root/scripts/build-web.sh" > /dev/null

# shellcheck source=../tests/web/serve.sh
source "$root/tests/web/serve.sh"
work=$(mktemp -d /tmp/tessera-bench-web-XXXXXX)
cleanup() {
  stop_web_server "$work/server.pid"
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

echo "bench_web: generating $images images (96 x 96, 8-bit, unique bytes each)"
/usr/bin/python3 - "$images" <<'PY'
import os, sys
import cv2
import numpy as np
count = int(sys.argv[1])
rng = np.random.default_rng(1)
for i in range(count):
    folder = f"images/plate{i // 1000:02d}"
    os.makedirs(folder, exist_ok=True)
    image = rng.integers(0, 40, (96, 96), dtype=np.uint8)
    for _ in range(3):
        x, y, r = (int(v) for v in rng.integers(10, 86, 3) % [86, 86, 20]) 
        cv2.circle(image, (x, y), max(r, 4), int(rng.integers(120, 255)), -1)
    cv2.imwrite(f"{folder}/well{chr(65 + i % 8)}_{i:05d}.png", image)
PY
"$tessera" init workspace > /dev/null
export TESSERA_DIR=$work/workspace
"$tessera" import images --pattern 'plate{plate:int}/well{well}_{n:int}.png' > import.log
tail -1 import.log
password="bench-$RANDOM$RANDOM"
echo "$password" | "$tessera" user add admin --password-stdin --role owner > /dev/null

start_web_server "$tessera" "$root/web/dist" "$work" || die "the server did not start"
port=$server_port
url=http://127.0.0.1:$port
token=$(curl -sf -X POST "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"name\":\"admin\",\"password\":\"$password\"}" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

# Anchor: the list page the browser asks for first, then one thumbnail tile of an image the browser will
# not show (so it is cold here, as the browser's first tiles are cold on its first run). Second figure: the
# page's own files (index.html, its script and style) and the same list page asked with the browser's
# Accept-Encoding, which makes the server compress them (brotli where offered): what a browser cannot avoid.
assets=$(cd "$root/web/dist" && ls assets/index-*.js assets/index-*.css | tr '\n' ' ')
anchor=()
anchor_encoded=()
for run in $(seq "$runs"); do
  read -r ms ms_encoded < <(/usr/bin/python3 - "$url" "$token" "$images" "$run" $assets <<'PY'
import sys, time, urllib.request
url, token, images, run, assets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
def get(path, encoding="identity"):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token, "Accept-Encoding": encoding})
    with urllib.request.urlopen(req) as res:
        return res.read()
start = time.perf_counter()
get("/api/v1/projects/1/images?limit=120&count=true")
get(f"/api/v1/images/{images - run + 1}/tiles/0/0/0.webp")
plain = (time.perf_counter() - start) * 1000
start = time.perf_counter()
for path in ["/"] + ["/" + a for a in assets] + ["/api/v1/projects/1/images?limit=120&count=true"]:
    get(path, "gzip, deflate, br, zstd")
print(f"{plain:.1f} {(time.perf_counter() - start) * 1000:.1f}")
PY
)
  anchor+=("$ms")
  anchor_encoded+=("$ms_encoded")
done

browser=$(TESSERA_URL=$url TESSERA_TOKEN=$token RUNS=$runs node "$root/tests/web/bench_load.mjs")

/usr/bin/python3 - "$images" "$browser" "${anchor_encoded[*]}" "${anchor[@]}" <<'PY'
import json, statistics, sys
images, browser = int(sys.argv[1]), json.loads(sys.argv[2])
encoded, anchor = [float(a) for a in sys.argv[3].split()], [float(a) for a in sys.argv[4:]]
first, inter = browser["first_tile"], browser["interactive"]
med = statistics.median
print(f"bench_web: {images} images, {len(first)} browser runs (fresh context each), loopback")
print(f"  browser time to first tile   ms: {first}  median {med(first):.1f}")
print(f"  browser time to interactive  ms: {inter}  median {med(inter):.1f}  (goal < 1500: {'met' if med(inter) < 1500 else 'MISSED'})")
print(f"  browser scroll to the last row (cursor walk of {images} images), first run: {browser['to_last_row']} ms")
print(f"  anchor list page + one tile  ms: {anchor}  median {med(anchor):.1f}")
print(f"  page files + list page with the browser's Accept-Encoding (server-side compression) ms: {encoded}  median {med(encoded):.1f}")
print(f"  ratio first tile / anchor: {med(first) / med(anchor):.1f}x   interactive / anchor: {med(inter) / med(anchor):.1f}x")
PY
