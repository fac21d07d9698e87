#!/usr/bin/env bash
# Point-prompted mask benchmark (`make bench`): median and p95 latency of one generate call (one click, the
# default segmenter) on two generated 1024x1024 images, one per path: grey blobs (the blob watershed) and
# textured colour objects (GrabCut over assumed scales), and for each in the same run the anchor: OpenCV's
# cv::grabCut on the full image with the same seed, printed as a ratio (ours / anchor;
# < 1 = faster). Goal: median < 100 ms on this 2-core machine.
#   scripts/bench_generate.sh [BUILD]      TESSERA_BENCH_SMOKE=1: 512x512, 10 + 3 clicks (CI)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
driver="$build/bench/tessera_bench_generate"
[ -x "$driver" ] || { echo "bench_generate: $driver is missing: configure with -DTESSERA_BUILD_BENCH=ON and build" >&2; exit 1; }
if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then
  args=(--size 512 --clicks 10 --anchor-clicks 2 --grabcut-clicks 3 --sessions 1)
else
  args=(--size 1024 --clicks 60 --anchor-clicks 6 --grabcut-clicks 10 --sessions 4)
fi
output=$("$driver" "${args[@]}")
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews the times)"
# One line per generated image; `methods` says which path its clicks took (the blob watershed or GrabCut).
while read -r line; do
  field() { tr ' ' '\n' <<<"$line" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
  if [[ $line == corrections* ]]; then
    printf '\nannotation session on the colour image: third request (+ - -, each - inside the mask), %s sessions\n' \
      "$(field sessions)"
    printf '  %-40s %10s\n' what "median ms"
    printf '  %-40s %10s\n' "tessera, searches of earlier clicks kept" "$(field warm_median_ms)"
    printf '  %-40s %10s\n' "anchor: the same request, empty memo" "$(field cold_median_ms)"
    printf '  ratio to the anchor (median): %s\n' "$(field ratio)"
    continue
  fi
  printf '\ngenerate benchmark: one click per object, %s x %s %s image, default segmenter (paths: %s)\n' \
    "$(field size)" "$(field size)" "$(field image)" "$(field methods)"
  printf '  %-40s %6s %10s %10s %14s %11s\n' what calls "median ms" "p95 ms" "CPU median ms" "CPU p95 ms"
  printf '  %-40s %6s %10s %10s %14s %11s\n' "tessera generate ($(field methods | sed 's/:[0-9]*//g'))" \
    "$(field clicks)" "$(field median_ms)" "$(field p95_ms)" "$(field cpu_median_ms)" "$(field cpu_p95_ms)"
  printf '  %-40s %6s %10s %10s %14s %11s\n' "anchor: cv::grabCut on the full image" "$(field anchor_clicks)" \
    "$(field anchor_median_ms)" "-" "$(field anchor_cpu_median_ms)" "-"
  printf '  ratio to the anchor (median): wall %s, CPU %s   goal: median < 100 ms\n' "$(field ratio)" "$(field cpu_ratio)"
done <<<"$output"
