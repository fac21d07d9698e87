#!/usr/bin/env bash
# Pipeline benchmark (`make bench`): examples/plankton_ecotaxa.json on N generated plankton-like images
# (1024x768 RGB, 1-20 organisms each; default N=2000) with one and two jobs, against the same chain written
# with scikit-image (bench/pipeline_skimage.py) on the first M images (default 100: it is ~50x slower), as
# images/s and objects/s per contender; and the peak RSS of the run on N/10 and on N images (flat = the
# pipeline streams). TESSERA_BENCH_SMOKE=1 runs 40 images (skimage on 8).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
tessera="$build/cli/tessera"
py=/usr/bin/python3
if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then n=40; m=8; else n=${TESSERA_BENCH_PIPELINE_IMAGES:-2000}; m=${TESSERA_BENCH_PIPELINE_SKIMAGE:-100}; fi
small=$((n / 10))

data="$build/bench-data/plankton-$n"
if [ ! -f "$data/manifest.json" ]; then
  echo "bench: generating $n plankton images in $data"
  rm -rf "$data"
  "$tessera" synth plankton "$data" --images "$n" --seed 7 >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$tessera" init "$work/ws" >/dev/null
# The example with its outputs in the work folder.
"$py" - "$root/examples/plankton_ecotaxa.json" "$work" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
for node in spec["nodes"]:
    if node.get("write") == "ecotaxa": node["path"] = sys.argv[2] + "/out/ecotaxa.zip"
    if node.get("write") == "csv": node["path"] = sys.argv[2] + "/out/objects.csv"
json.dump(spec, open(sys.argv[2] + "/pipeline.json", "w"))
PY
mkdir -p "$work/small"
for f in $(cd "$data" && find . -name '*.png' | sort | head -n "$small"); do mkdir -p "$work/small/$(dirname "$f")"; ln -s "$data/$f" "$work/small/$f"; done
mapfile -t skfiles < <(find "$data" -name '*.png' | sort | head -n "$m")
find "$data" -name '*.png' -exec cat {} + >/dev/null  # warm the page cache for every contender alike

# run DIR JOBS -> "seconds peak_rss_kb objects"
run() {
  local log="$work/time.log"
  rm -rf "$work/out"; mkdir -p "$work/out"
  /usr/bin/time -v -o "$log" "$tessera" --dir "$work/ws" run "$work/pipeline.json" --input "$1" \
    --pattern 'st{station}/img_{index:int}.png' --jobs "$2" >"$work/run.out" 2>&1
  local wall rss objects
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$log")
  objects=$(($(wc -l <"$work/out/objects.csv") - 1))
  echo "$wall $rss $objects"
}
read -r t1 rss_big objects < <(run "$data" 1)
read -r t2 _ _ < <(run "$data" 2)
read -r _ rss_small _ < <(run "$work/small" 1)
start=$(date +%s.%N)
sk_objects=$("$py" "$root/bench/pipeline_skimage.py" "$work/sk.zip" "${skfiles[@]}" | awk '{print $2}')
t_sk=$(echo "$(date +%s.%N) - $start" | bc -l)

rate() { echo "scale=1; $1 / $2" | bc -l; }
ips1=$(rate "$n" "$t1"); ips2=$(rate "$n" "$t2"); ips_sk=$(rate "$m" "$t_sk")
ops1=$(rate "$objects" "$t1"); ops2=$(rate "$objects" "$t2"); ops_sk=$(rate "$sk_objects" "$t_sk")
speedup=$(echo "scale=1; $ips1 / $ips_sk" | bc -l)
rss_ratio=$(echo "scale=2; $rss_big / $rss_small" | bc -l)
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo PASS; else echo MISS; fi; }
printf '\npipeline benchmark: examples/plankton_ecotaxa.json (EcoTaxa zip + CSV), 1024x768 RGB plankton images\n'
printf '  %-40s %6d images %7d objects %8.2f s %8s img/s %9s obj/s\n' "tessera run --jobs 1" "$n" "$objects" "$t1" "$ips1" "$ops1"
printf '  %-40s %6d images %7d objects %8.2f s %8s img/s %9s obj/s\n' "tessera run --jobs 2" "$n" "$objects" "$t2" "$ips2" "$ops2"
printf '  %-40s %6d images %7d objects %8.2f s %8s img/s %9s obj/s\n' "scikit-image script (anchor)" "$m" "$sk_objects" "$t_sk" "$ips_sk" "$ops_sk"
printf '  speed-up vs scikit-image (1 job, img/s):  %6sx  goal >= 15x  %s\n' "$speedup" "$(verdict "$speedup >= 15")"
printf '  peak RSS %d images: %d MB, %d images: %d MB  ratio %sx  goal flat (<= 1.2x)  %s\n' "$small" "$((rss_small / 1024))" \
  "$n" "$((rss_big / 1024))" "$rss_ratio" "$(verdict "$rss_ratio <= 1.2")"
