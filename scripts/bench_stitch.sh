#!/usr/bin/env bash
# Stitching benchmark (`make bench`): a COLSxROWS grid of TILE x TILE 8-bit tiles (default 6x6 of 2048, 10%
# overlap, up to 8 px of jitter per axis, camera noise sd 3), generated once. In the same run, as whole
# processes timed with /usr/bin/time -v (wall seconds, peak RSS):
#   - `tessera stitch` (pairwise registration, global placement, feather-blended tiled TIFF), with 1 job
#     and with one job per core;
#   - the anchor: libvips' own vips_merge of the same tiles at their nominal places, without registration,
#     blended over the same overlap, written as the same TIFF, one libvips thread as tessera uses.
#   - `tessera stitch` on the top-left quarter of the grid (half the rows and columns), to show that peak RSS
#     stays flat as the grid grows: tiles stream through, the mosaic is never held.
# Prints the ratio of the times, peak RSS, and tessera's placement error against the generator's truth.
#   scripts/bench_stitch.sh [BUILD]      BUILD defaults to build
# Environment: TESSERA_BENCH_SMOKE=1 runs a 2x2 grid of 512 px tiles (CI); TESSERA_BENCH_STITCH_GRID=CxR and
# TESSERA_BENCH_STITCH_TILE=N override the size. Inputs are cached in BUILD/bench-data/stitch-CxR-N.
# Exit status is non-zero only on errors, never on a missed goal.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
tessera="$build/cli/tessera"
gen="$build/bench/tessera_bench_stitch_gen"
anchor="$build/bench/tessera_bench_stitch_vips_merge"

die() { echo "bench_stitch: $*" >&2; exit 1; }
[ -x "$tessera" ] || die "$tessera is missing: build first (make build)"
[ -x "$gen" ] && [ -x "$anchor" ] || die "$gen or $anchor is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

grid=${TESSERA_BENCH_STITCH_GRID:-6x6}
tile=${TESSERA_BENCH_STITCH_TILE:-2048}
if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then grid=2x2; tile=512; fi
[[ "$grid" =~ ^([0-9]+)x([0-9]+)$ ]] || die "TESSERA_BENCH_STITCH_GRID must be COLSxROWS, got '$grid'"
cols=${BASH_REMATCH[1]} rows=${BASH_REMATCH[2]}
[[ "$tile" =~ ^[0-9]+$ ]] && [ "$tile" -ge 256 ] || die "TESSERA_BENCH_STITCH_TILE must be an integer >= 256, got '$tile'"
overlap=0.1
jobs=$(nproc)

# ---------------------------------------------------------------------------------------------- inputs
data="$build/bench-data/stitch-$grid-$tile"
stamp="$data.stamp"
want="grid=$grid tile=$tile overlap=$overlap gen=$(sha256sum "$root/bench/stitch_gen.cpp" | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bench_stitch: generating $grid tiles of ${tile}x${tile} in $data (once; reused by later runs)"
  rm -rf "$data" "$stamp"
  "$gen" "$data" "$cols" "$rows" "$tile" --overlap "$overlap" --jitter 8 --noise 3 --jobs "$jobs"
  echo "$want" >"$stamp"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat "$data"/tile_*.tif >/dev/null  # warm the page cache for every contender alike

# --------------------------------------------------------------------------------------------- helpers
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
peak_rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

# timed NAME COMMAND...: wall seconds into t_NAME, peak RSS (MB) into rss_NAME.
timed() {
  local name=$1 t0 t1
  shift
  echo "bench_stitch: $name"
  t0=$(now)
  if ! /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err"; then
    cat "$out/$name.err" >&2
    die "$name failed"
  fi
  t1=$(now)
  printf -v "t_$name" '%s' "$(elapsed "$t0" "$t1")"
  printf -v "rss_$name" '%s' "$(peak_rss_mb "$out/$name.time")"
}

stitch() {  # stitch JOBS NAME [TILES...] (default: every tile)
  local jobs=$1 name=$2
  shift 2
  [ $# -gt 0 ] || set -- "$data"
  timed "$name" "$tessera" stitch "$@" --pattern 'tile_r{row}_c{col}.tif' --overlap "$overlap" \
    --out "$out/$name.tif" --report "$out/$name.csv" --jobs "$jobs"
}

# ---------------------------------------------------------------------------------------------- runs
timed anchor "$anchor" "$data" "$cols" "$rows" "$tile" "$overlap" "$out/anchor.tif" --concurrency 1
stitch 1 tessera1
stitch "$jobs" tesseraN
quarter=()
for ((r = 0; r < (rows + 1) / 2; r++)); do
  for ((c = 0; c < (cols + 1) / 2; c++)); do quarter+=("$data/tile_r${r}_c${c}.tif"); done
done
stitch "$jobs" quarter "${quarter[@]}"

# Largest placement error: each tile's place relative to tile r0_c0 against the truth, in pixels.
max_error=$(awk -F, '
  FNR == 1 { next }
  FILENAME ~ /truth.csv$/ { tx[$1] = $4; ty[$1] = $5; next }
  { n = split($1, parts, "/"); f = parts[n]; px[f] = $6; py[f] = $7; fb += ($14 == "true") }
  END {
    worst = 0
    for (f in px) {
      dx = (px[f] - px["tile_r0_c0.tif"]) - (tx[f] - tx["tile_r0_c0.tif"])
      dy = (py[f] - py["tile_r0_c0.tif"]) - (ty[f] - ty["tile_r0_c0.tif"])
      e = sqrt(dx * dx + dy * dy); if (e > worst) worst = e
    }
    printf "%.2f %d", worst, fb
  }' "$data/truth.csv" "$out/tessera1.csv")
fallbacks=${max_error#* }
max_error=${max_error% *}
summary=$(grep '^stitched ' "$out/tesseraN.out" || true)
size=$(sed -n 's/.* into [^ ]* (\([0-9]*x[0-9]*\)).*/\1/p' <<<"$summary")
mosaic_mb=$(awk -v s="$size" 'BEGIN { split(s, d, "x"); printf "%.0f", d[1] * d[2] / 1e6 }')
reg1=$(sed -n 's/.*registration \([0-9.]*\) s, mosaic \([0-9.]*\) s.*/\1 s registration + \2 s mosaic/p' "$out/tessera1.out")
regN=$(sed -n 's/.*registration \([0-9.]*\) s, mosaic \([0-9.]*\) s.*/\1 s registration + \2 s mosaic/p' "$out/tesseraN.out")
cmp -s "$out/tessera1.csv" "$out/tesseraN.csv" || die "the placement differs between --jobs 1 and --jobs $jobs"

# ----------------------------------------------------------------------------------------------- report
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }
echo
echo "stitch benchmark: $grid tiles of ${tile}x${tile} u8 (TIFF), ${overlap} overlap, jitter <= 8 px; mosaic $size ($mosaic_mb MB); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-52s %8s %12s\n' "run" "wall s" "peak RSS MB"
printf '  %-52s %8s %12s\n' "libvips vips_merge at nominal places (anchor)" "$t_anchor" "$rss_anchor"
printf '  %-52s %8s %12s   (%s)\n' "tessera stitch --jobs 1 (register + blend)" "$t_tessera1" "$rss_tessera1" "$reg1"
printf '  %-52s %8s %12s   (%s)\n' "tessera stitch --jobs $jobs" "$t_tesseraN" "$rss_tesseraN" "$regN"
printf '  time vs anchor (1 job, 1 libvips thread each):  %sx   goal <= 2x    %s\n' \
  "$(ratio "$t_tessera1" "$t_anchor")" "$(verdict "$(ratio "$t_tessera1" "$t_anchor") <= 2")"
growth=$(awk -v q="$rss_quarter" -v f="$rss_tesseraN" 'BEGIN { printf "%+.0f%%", (f / q - 1) * 100 }')
printf '  peak RSS, quarter grid (%d tiles) -> full grid: %s -> %s MB (%s)   goal < +20%%  %s\n' "${#quarter[@]}" \
  "$rss_quarter" "$rss_tesseraN" "$growth" "$(verdict "$rss_tesseraN < 1.2 * $rss_quarter")"
printf '  peak RSS vs mosaic size:                        %sx   (the mosaic is %s MB)\n' \
  "$(ratio "$rss_tesseraN" "$mosaic_mb")" "$mosaic_mb"
printf '  max placement error vs truth:                   %s px  goal <= 1 px  %s   (%s tile(s) fell back)\n' \
  "$max_error" "$(verdict "$max_error <= 1")" "$fallbacks"
[ "$grid" = 6x6 ] && [ "$tile" = 2048 ] || echo "  (size $grid of $tile: the goals are stated for 6x6 of 2048)"
