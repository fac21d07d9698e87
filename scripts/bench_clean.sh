#!/usr/bin/env bash
# Crowd-annotation cleaning benchmark (`make bench`): 500 generated 1024x1024 montage label images (dense
# cells, some touching, specks and small holes) cleaned by tessera (app::clean_crowd_labels: remove small
# holes < 64 px, remove small objects < 10 px, 4-connectivity, filled holes take their neighbours' label,
# relabel sequentially) and, in the same run, by the same scikit-image 0.19 operations in /usr/bin/python3
# (remove_small_holes, remove_small_objects, relabel_sequential, from tests/app/crowd_clean_reference.py: the
# anchor). Only the cleaning is timed on both sides (images decoded before, written after); the outputs must
# be identical, pixel for pixel.
#   scripts/bench_clean.sh [BUILD]      TESSERA_BENCH_SMOKE=1: 20 images of 256x256 (CI)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
driver="$build/bench/tessera_bench_clean"
die() { echo "bench_clean: $*" >&2; exit 1; }
[ -x "$driver" ] || die "$driver is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"
/usr/bin/python3 -c 'import skimage, numpy, cv2' 2>/dev/null || die "/usr/bin/python3 needs scikit-image, numpy and OpenCV"

if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then count=20 size=256; else count=500 size=1024; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$driver" gen "$work/in" "$count" "$size"
line=$("$driver" clean "$work/in" "$work/tessera")
tessera_s=$(sed -n 's/.*clean_s=\([^ ]*\).*/\1/p' <<<"$line")

read -r python_s mismatches < <(/usr/bin/python3 - "$work/in" "$work/tessera" "$root/tests/app" <<'PY'
import os, sys, time
import cv2
import numpy as np
sys.path.insert(0, sys.argv[3])
from crowd_clean_reference import clean

names = sorted(n for n in os.listdir(sys.argv[1]) if n.endswith('.png'))
images = [cv2.imread(os.path.join(sys.argv[1], n), cv2.IMREAD_UNCHANGED) for n in names]
start = time.perf_counter()
results = [clean(i) for i in images]
seconds = time.perf_counter() - start
bad = 0
for n, r in zip(names, results):
    t = cv2.imread(os.path.join(sys.argv[2], n), cv2.IMREAD_UNCHANGED)
    if t is None or t.dtype != r.dtype or t.shape != r.shape or not np.array_equal(t, r):
        bad += 1
print(f"{seconds:.4f} {bad}")
PY
)

ratio=$(awk -v a="$python_s" -v b="$tessera_s" 'BEGIN { if (b > 0) printf "%.1f", a / b; else printf "n/a" }')
verdict=$(awk -v r="$ratio" 'BEGIN { exit !(r >= 20) }' && echo PASS || echo MISS)
printf '\nclean benchmark: %d generated %dx%d montage label images (remove small holes/objects, relabel)\n' "$count" "$size" "$size"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews the times)"
printf '  %-40s %9s %12s\n' cleaner seconds "ms / image"
printf '  %-40s %9.3f %12.2f\n' "tessera clean_crowd_labels" "$tessera_s" "$(awk -v s="$tessera_s" -v n="$count" 'BEGIN { print 1000 * s / n }')"
printf '  %-40s %9.3f %12.2f\n' "scikit-image 0.19 (anchor)" "$python_s" "$(awk -v s="$python_s" -v n="$count" 'BEGIN { print 1000 * s / n }')"
echo "  outputs differing from scikit-image: $mismatches of $count"
echo "  speed-up vs scikit-image: ${ratio}x (goal >= 20x): $verdict"
[ "$mismatches" = 0 ] || die "$mismatches outputs differ from scikit-image"
