#!/usr/bin/env bash
# npz export benchmark (`make bench`): 1,000 frames of 512x512 written as DeepCell training data (X float32,
# y int32, channels last; 2.1 GB) by tessera's npz writer (the export's writer: frames streamed, stored zip,
# synced and renamed into place), in MB/s of .npz written, against numpy.savez of the same arrays with
# Debian's /usr/bin/python3 in the same run (the anchor; numpy holds the arrays in memory and does not sync).
# Best of 3 runs each. Goal: >= 200 MB/s.
#   scripts/bench_export.sh [BUILD]      TESSERA_BENCH_SMOKE=1: 50 frames of 128x128 (CI)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
driver="$build/bench/tessera_bench_export"
die() { echo "bench_export: $*" >&2; exit 1; }
[ -x "$driver" ] || die "$driver is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"

if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then frames=50 size=128; else frames=1000 size=512; fi
runs=${TESSERA_BENCH_EXPORT_RUNS:-3}
out=$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench-export-XXXXXX")
trap 'rm -rf "$out"' EXIT

best() { sort -g | tail -1; }

tessera_rates=()
for _ in $(seq "$runs"); do
  line=$("$driver" --frames "$frames" --size "$size" --out "$out/tessera.npz") || die "driver failed"
  tessera_rates+=("$(sed -n 's/.*mb_per_s=\([^ ]*\).*/\1/p' <<<"$line")")
  mb=$(sed -n 's/.*mb=\([^ ]*\) .*/\1/p' <<<"$line")
  rm -f "$out/tessera.npz"
done

numpy_rates=()
for _ in $(seq "$runs"); do
  rate=$(/usr/bin/python3 - "$frames" "$size" "$out/numpy.npz" <<'PY'
import os, sys, time
import numpy as np
frames, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r, c = np.mgrid[0:size, 0:size]
pool_x = [((r * 3 + c + k * 7) % 256).astype(np.float32) for k in range(8)]
pool_y = [((r // 32) * 16 + c // 32 + k).astype(np.int32) for k in range(8)]
X = np.empty((frames, size, size, 1), np.float32)
y = np.empty((frames, size, size, 1), np.int32)
for f in range(frames):
    X[f, ..., 0] = pool_x[f % 8]
    y[f, ..., 0] = pool_y[f % 8]
start = time.perf_counter()
np.savez(path, X=X, y=y)
seconds = time.perf_counter() - start
print(f"{os.path.getsize(path) / 1e6 / seconds:.1f}")
PY
  ) || die "numpy anchor failed"
  numpy_rates+=("$rate")
  rm -f "$out/numpy.npz"
done

t=$(printf '%s\n' "${tessera_rates[@]}" | best)
n=$(printf '%s\n' "${numpy_rates[@]}" | best)
printf '\nnpz export benchmark: %d frames of %dx%d (X float32 + y int32, %s MB), best of %d runs\n' \
  "$frames" "$size" "$size" "$mb" "$runs"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews the times)"
printf '  %-40s %10s MB/s   (runs: %s)\n' "tessera npz writer (synced)" "$t" "${tessera_rates[*]}"
printf '  %-40s %10s MB/s   (runs: %s)\n' "numpy.savez (anchor, not synced)" "$n" "${numpy_rates[*]}"
awk -v t="$t" -v n="$n" 'BEGIN { printf "  ratio tessera / numpy: %.2f; goal >= 200 MB/s: %s\n", t / n, (t >= 200 ? "met" : "NOT met") }'
