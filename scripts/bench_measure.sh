#!/usr/bin/env bash
# Measure benchmark (`make bench`): N generated 1024x1024 8-bit images (default 100, 50-400 objects each).
# In the same run, as whole processes: scikit-image doing the same chain (the anchor), `tessera measure` with
# one and two workers, and a plain OpenCV threshold + connectedComponentsWithStats pass (the floor). Prints
# the ratios and checks that tessera's CSV equals scikit-image's. TESSERA_BENCH_MEASURE_IMAGES=N for a smoke run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
n=${TESSERA_BENCH_MEASURE_IMAGES:-100}
min_area=20
tessera="$build/cli/tessera"
floor="$build/bench/tessera_bench_opencv_floor"
py=/usr/bin/python3

data="$build/bench-data/measure-$n"
stamp="$data.stamp"
want="n=$n gen=$(sha256sum "$root/bench/gen_measure_images.py" | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bench: generating $n 1024x1024 images in $data"
  rm -rf "$data"
  "$py" "$root/bench/gen_measure_images.py" "$data" "$n"
  echo "$want" >"$stamp"
fi
mapfile -t files < <(find "$data" -name '*.png' | sort)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat "${files[@]}" >/dev/null  # warm the page cache for every contender alike

runs=${TESSERA_BENCH_MEASURE_RUNS:-2}
seconds() {  # seconds COMMAND... : the best wall time of $runs runs (this VM's speed drifts between runs)
  local start end t best=""
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  echo "$best"
}

t_sk=$(seconds "$py" "$root/bench/measure_skimage.py" "$out/skimage.csv" "$min_area" "${files[@]}")
t_j1=$(seconds "$tessera" measure "${files[@]}" --min-area "$min_area" --jobs 1 --csv "$out/tessera.csv")
t_j2=$(seconds "$tessera" measure "${files[@]}" --min-area "$min_area" --jobs 2 --csv "$out/tessera2.csv")
t_cv=$(seconds "$floor" "${files[@]}")

identical="yes"
"$py" "$root/bench/measure_compare.py" "$out/tessera.csv" "$out/skimage.csv" || identical="NO"
cmp -s "$out/tessera.csv" "$out/tessera2.csv" || identical="NO (jobs 1 and 2 differ)"
objects=$(($(wc -l <"$out/tessera.csv") - 1))

ratio() { echo "scale=2; $1 / $2" | bc -l; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo PASS; else echo MISS; fi; }
speedup=$(ratio "$t_sk" "$t_j1")
floor_ratio=$(ratio "$t_j1" "$t_cv")
scaling=$(ratio "$t_j1" "$t_j2")
printf '\nmeasure benchmark: %d images 1024x1024, %d objects, best of %d runs each\n' "$n" "$objects" "$runs"
printf '  %-44s %8.2f s\n' "scikit-image 0.19 (anchor)" "$t_sk"
printf '  %-44s %8.2f s\n' "tessera measure --jobs 1" "$t_j1"
printf '  %-44s %8.2f s\n' "tessera measure --jobs 2" "$t_j2"
printf '  %-44s %8.2f s\n' "OpenCV threshold+components (floor)" "$t_cv"
printf '  speed-up vs scikit-image (1 job):  %6sx  goal >= 20x   %s\n' "$speedup" "$(verdict "$speedup >= 20")"
printf '  time vs OpenCV floor (1 job):      %6sx  goal <= 3x    %s\n' "$floor_ratio" "$(verdict "$floor_ratio <= 3")"
printf '  scaling jobs 2 vs 1:               %6sx  goal >= 1.8x  %s\n' "$scaling" "$(verdict "$scaling >= 1.8")"
printf '  output identical to scikit-image:  %s\n' "$identical"
