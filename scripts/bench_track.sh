#!/usr/bin/env bash
# Tracking benchmark (`make bench`): a generated time-lapse of 500 moving, dividing, entering and leaving
# objects per frame (with its true lineage), linked by tessera's tracker at 250, 500 and 1,000 frames
# (seconds, peak RSS, accuracy; linear in frames?) and, in the same run, by a greedy nearest-neighbour
# linker (the anchor: no global assignment, no gap closing, no divisions), plus one packed run where
# neighbours touch. Each size runs as its own
# process under /usr/bin/time -v; link seconds exclude generating the objects.
#   scripts/bench_track.sh [BUILD]      TESSERA_BENCH_SMOKE=1: 20 and 40 frames of 50 objects (CI)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
driver="$build/bench/tessera_bench_track"
die() { echo "bench_track: $*" >&2; exit 1; }
[ -x "$driver" ] || die "$driver is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

if [ "${TESSERA_BENCH_SMOKE:-0}" = 1 ]; then
  objects=50 sizes=(20 40) full=40
else
  objects=500 sizes=(250 500 1000) full=1000
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

runs=${TESSERA_BENCH_TRACK_RUNS:-3}
# run LINKER FRAMES [SPACING]: prints "link_s rss_mb accuracy precision division_f1 objects", the best link time
# of $runs runs (other work on this machine makes single runs noisy)
run() {
  local linker=$1 frames=$2 spacing=${3:-40} best="" line rss
  for _ in $(seq "$runs"); do
    /usr/bin/time -v -o "$out/time" "$driver" --frames "$frames" --objects "$objects" --linker "$linker" --spacing "$spacing" \
      >"$out/line" ||
      die "$linker at $frames frames failed"
    local s
    s=$(sed -n 's/.*link_s=\([^ ]*\).*/\1/p' "$out/line")
    if [ -z "$best" ] || awk "BEGIN { exit !($s < $best) }"; then
      best=$s
      line=$(cat "$out/line")
      rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$out/time")
    fi
  done
  field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$line"; }
  echo "$(field link_s) $rss $(field link_accuracy) $(field link_precision) $(field division_f1) $(field objects)"
}

printf '\ntrack benchmark: %d objects per frame, generated (moving, dividing, entering/leaving at the border), best of %d runs\n' \
  "$objects" "$runs"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work skews the times)"
printf '  %-30s %7s %10s %9s %10s %10s %11s %9s\n' linker frames objects "link s" "peak MB" "accuracy" "precision" "div F1"
declare -A secs
for frames in "${sizes[@]}"; do
  read -r s rss acc prec f1 n < <(run tessera "$frames")
  secs[$frames]=$s
  printf '  %-30s %7d %10d %9.2f %10s %10s %11s %9s\n' "tessera track" "$frames" "$n" "$s" "$rss" "$acc" "$prec" "$f1"
done
# Packed: one object per 18x18 px for ~16 px discs, so neighbours touch and candidate groups grow.
read -r ds drss dacc dprec df1 dn < <(run tessera "$full" 18)
printf '  %-30s %7d %10d %9.2f %10s %10s %11s %9s\n' "tessera track, packed (18 px)" "$full" "$dn" "$ds" "$drss" "$dacc" \
  "$dprec" "$df1"
read -r as arss aacc aprec af1 an < <(run nearest "$full")
printf '  %-30s %7d %10d %9.2f %10s %10s %11s %9s\n' "nearest neighbour (anchor)" "$full" "$an" "$as" "$arss" "$aacc" "$aprec" "$af1"

first=${sizes[0]}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
verdict() { awk "BEGIN { exit !($1) }" && echo PASS || echo MISS; }
t_full=${secs[$full]}
per_first=$(awk -v s="${secs[$first]}" -v f="$first" 'BEGIN { printf "%.3f", 1000 * s / f }')
per_full=$(awk -v s="$t_full" -v f="$full" 'BEGIN { printf "%.3f", 1000 * s / f }')
printf '  time per frame: %s ms at %d frames, %s ms at %d frames (linear: ratio %s, goal <= 1.3)  %s\n' "$per_first" \
  "$first" "$per_full" "$full" "$(ratio "$per_full" "$per_first")" "$(verdict "$per_full <= 1.3 * $per_first")"
printf '  %d frames in %.2f s (goal < 10 s)  %s\n' "$full" "$t_full" "$(verdict "$t_full < 10")"
printf '  time vs nearest-neighbour anchor: %sx; accuracy %s vs %s\n' "$(ratio "$t_full" "$as")" "$acc" "$aacc"
echo "  (peak MB includes the generator's truth and the scoring, which grow with frames like the output does)"
[ "${TESSERA_BENCH_SMOKE:-0}" = 1 ] && echo "  (smoke size: the goals are defined for 1,000 frames of 500 objects)"
exit 0
