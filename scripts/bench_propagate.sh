#!/usr/bin/env bash
# Propagation benchmark (`make bench`): frames per second of mask propagation at 512x512 on a synthetic
# time-lapse (ground truth known, so each row also gives the mean IoU per object and frame), for tessera's
# MaskPropagator (DIS or Farneback flow both ways, warp, graph-cut refinement, confidence) with one object
# and with every object of the frame, and in the same run the anchor: plain OpenCV Farneback + remap of the
# mask (no refinement, no confidence). Ratios are against the anchor's frames per second. Best of $runs.
#   scripts/bench_propagate.sh [BUILD]      TESSERA_BENCH_SMOKE=1: 5 frames at 256x256 (CI)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
driver="$build/bench/tessera_bench_propagate"
die() { echo "bench_propagate: $*" >&2; exit 1; }
[ -x "$driver" ] || die "$driver is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"

if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then
  frames=5 size=256 runs=1
else
  frames=20 size=512 runs=${TESSERA_BENCH_PROPAGATE_RUNS:-3}
fi

# run ARGS...: the driver's line of the run with the highest fps
run() {
  local best="" line fps
  for _ in $(seq "$runs"); do
    line=$("$driver" --frames "$frames" --size "$size" "$@") || die "driver failed: $*"
    fps=$(sed -n 's/.*fps=\([^ ]*\).*/\1/p' <<<"$line")
    if [ -z "$best" ] || awk "BEGIN { exit !($fps > $(sed -n 's/.*fps=\([^ ]*\).*/\1/p' <<<"$best")) }"; then
      best=$line
    fi
  done
  echo "$best"
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

printf '\npropagate benchmark: %d frames of a %dx%d synthetic time-lapse (20 nuclei), best of %d runs\n' \
  "$frames" "$size" "$size" "$runs"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews the times)"
anchor=$(run --mode anchor --objects one)
anchor_fps=$(field fps "$anchor")
printf '  %-52s %9s %9s %9s %9s\n' configuration frames/s "x anchor" "mean IoU" flagged
row() {
  local label=$1 line=$2
  printf '  %-52s %9s %9.2f %9s %9s\n' "$label" "$(field fps "$line")" \
    "$(awk "BEGIN { print $(field fps "$line") / $anchor_fps }")" "$(field mean_iou "$line")" "$(field flagged "$line")"
}
row "anchor: OpenCV Farneback + remap, 1 object" "$anchor"
row "tessera DIS, warp only, 1 object" "$(run --mode tessera --flow dis --refine 0 --objects one)"
row "tessera DIS + refinement, 1 object" "$(run --mode tessera --flow dis --refine 1 --objects one)"
row "tessera Farneback + refinement, 1 object" "$(run --mode tessera --flow farneback --refine 1 --objects one)"
row "tessera DIS, warp only, all objects" "$(run --mode tessera --flow dis --refine 0 --objects all)"
row "tessera DIS + refinement, all objects" "$(run --mode tessera --flow dis --refine 1 --objects all)"
echo "  goal: >= 30 frames/s at 512x512 (one object, DIS + refinement)"
