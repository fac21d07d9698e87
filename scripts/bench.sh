#!/usr/bin/env bash
# Import benchmark (`make bench`): N generated 512x512 8-bit PNGs (default 10,000) imported with full decode,
# SHA-256 and focus score, on SQLite and on PostgreSQL, against `sha256sum` over the same files in the same
# run as the I/O floor. Also peak RSS at N/4 and N (flat = no growth with the number of images).
#   scripts/bench.sh [BUILD]            BUILD defaults to build; the CLI is BUILD/cli/tessera
# Environment:
#   TESSERA_BENCH_IMAGES=N   images (default 10000; CI smoke test: 200)
#   TESSERA_BENCH_JOBS=J     import --jobs and sha256sum parallelism (default: nproc)
#   TESSERA_BENCH_PG=0       skip PostgreSQL
#   TESSERA_BENCH_MICRO=0    skip the micro-benchmarks (BUILD/bench/tessera_bench_micro)
#   TESSERA_BENCH_KEEP=1     keep the workspaces under BUILD/bench-run (removed otherwise)
# Inputs are cached in BUILD/bench-data/png-N-512 and reused while BUILD/bench-data/png-N-512.stamp matches.
# Exit status is non-zero only on errors (a failed import, a tool missing), never on a missed goal.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
n=${TESSERA_BENCH_IMAGES:-10000}
jobs=${TESSERA_BENCH_JOBS:-$(nproc)}
size=512
tessera="$build/cli/tessera"
gen="$build/bench/tessera_bench_gen"
micro="$build/bench/tessera_bench_micro"

die() { echo "bench: $*" >&2; exit 1; }
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 4 ] || die "TESSERA_BENCH_IMAGES must be an integer >= 4, got '$n'"
[[ "$jobs" =~ ^[0-9]+$ ]] && [ "$jobs" -ge 1 ] || die "TESSERA_BENCH_JOBS must be an integer >= 1, got '$jobs'"
[ -x "$tessera" ] || die "$tessera is missing: build first (make build)"
[ -x "$gen" ] || die "$gen is missing: configure with -DTESSERA_BUILD_BENCH=ON and build"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
command -v sha256sum >/dev/null || die "sha256sum is missing"

# ---------------------------------------------------------------------------------------------- inputs
data="$build/bench-data"
images="$data/png-$n-$size"
stamp="$images.stamp"
# The stamp names what made the files; a changed generator invalidates the cache.
want_stamp="n=$n size=$size gen=$(sha256sum "$root/bench/gen_images.cpp" | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
  echo "bench: generating $n ${size}x${size} 8-bit PNGs in $images (once; reused by later runs)"
  rm -rf "$images" "$stamp"
  mkdir -p "$data"
  "$gen" "$images" "$n" --size "$size" --jobs "$(nproc)"
  echo "$want_stamp" >"$stamp"
else
  echo "bench: reusing $n PNGs in $images"
fi
mapfile -t files < <(find "$images" -type f -name '*.png' | sort)
[ "${#files[@]}" -eq "$n" ] || die "$images holds ${#files[@]} PNGs, expected $n (delete $stamp to regenerate)"
quarter=$((n / 4))
input_bytes=$(du -cb "${files[@]}" | tail -1 | cut -f1)

run="$build/bench-run"
rm -rf "$run"
mkdir -p "$run"
pg_db=""
pg_started=0
pg_admin=()
cleanup() {
  if [ -n "$pg_db" ]; then
    "${pg_admin[@]}" -q -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
  fi
  if [ "$pg_started" = 1 ]; then "$here/pg-test-server.sh" stop || true; fi
  if [ "${TESSERA_BENCH_KEEP:-0}" != 1 ]; then rm -rf "$run"; fi
}
trap cleanup EXIT

# --------------------------------------------------------------------------------------------- helpers
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? n / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
cpu_pct() { awk -F': ' '/Percent of CPU this job got/ { gsub("%", "", $2); print $2 }' "$1"; }
peak_rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$1"; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
busy=$(awk -v l="${load_start%% *}" -v c="$(nproc)" 'BEGIN { print (l > c / 2) ? 1 : 0 }')
[ "$busy" = 1 ] && echo "bench: warning: load average $load_start on $(nproc) cores; the numbers will be low and noisy" >&2

# Warm the page cache so the floor and the imports all read from memory.
echo "bench: warming the page cache ($((input_bytes / 1000000)) MB)"
cat "${files[@]}" >/dev/null

# ------------------------------------------------------------------------------- (1) sha256sum floor
echo "bench: sha256sum over $n files ($jobs parallel)"
t0=$(now)
printf '%s\0' "${files[@]}" | /usr/bin/time -v -o "$run/sha256sum.time" \
  xargs -0 -P "$jobs" -n 256 sha256sum >"$run/sha256sum.out"
t1=$(now)
floor_s=$(elapsed "$t0" "$t1")
floor_rate=$(rate "$n" "$floor_s")
floor_rss=$(peak_rss_mb "$run/sha256sum.time")
floor_cpu=$(cpu_pct "$run/sha256sum.time")
distinct=$(cut -c1-64 "$run/sha256sum.out" | sort -u | wc -l)
[ "$distinct" -eq "$n" ] || die "only $distinct of $n generated images are distinct; regenerate (rm $stamp)"

# ---------------------------------------------------------------------------------- (2)(3) imports
# import_run NAME DB_URL_OR_EMPTY COUNT: fresh workspace, timed import; sets run_s, run_rate, run_rss, run_line.
import_run() {
  local name=$1 url=$2 count=$3 ws="$run/$1"
  local init=("$tessera" init "$ws")
  [ -n "$url" ] && init+=(--db "$url")
  "${init[@]}" >"$run/$name.init" 2>&1 || { cat "$run/$name.init" >&2; die "$name: tessera init failed"; }
  local src=("$images")
  [ "$count" -ne "$n" ] && src=("${files[@]:0:$count}")
  echo "bench: $name: importing $count images"
  local t0 t1
  t0=$(now)
  if ! /usr/bin/time -v -o "$run/$name.time" \
    "$tessera" --dir "$ws" import "${src[@]}" --jobs "$jobs" >"$run/$name.out" 2>"$run/$name.err"; then
    tail -20 "$run/$name.err" >&2
    die "$name: tessera import failed"
  fi
  t1=$(now)
  run_line=$(grep '^imported ' "$run/$name.out" || true)
  [[ "$run_line" == "imported $count images "* ]] || die "$name: expected $count imported, got: ${run_line:-no summary line}"
  [[ "$run_line" == *", 0 failed, 0 unmatched" ]] || die "$name: failures: $run_line"
  run_s=$(elapsed "$t0" "$t1")
  run_rate=$(rate "$count" "$run_s")
  run_rss=$(peak_rss_mb "$run/$name.time")
  run_cpu=$(cpu_pct "$run/$name.time")
  echo "bench:   $run_line; wall ${run_s} s, CPU ${run_cpu}%, peak RSS ${run_rss} MB"
  [ "${TESSERA_BENCH_KEEP:-0}" = 1 ] || rm -rf "$ws"
}

import_run sqlite-quarter "" "$quarter"
sq_rss_q=$run_rss
import_run sqlite "" "$n"
sq_s=$run_s sq_rate=$run_rate sq_rss=$run_rss sq_line=$run_line sq_cpu=$run_cpu

pg=0
if [ "${TESSERA_BENCH_PG:-1}" != 0 ]; then
  port=${TESSERA_PG_PORT:-55432}
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || die "PostgreSQL is not installed (scripts/install-deps.sh), or set TESSERA_BENCH_PG=0"
  # Only stop the private server at the end if this run started it (tests may share it).
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then pg_started=1; fi
  base_url=$("$here/pg-test-server.sh" start)
  pg_admin=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -d postgres)
  pg_db="tessera_bench_$$"
  pg_url="${base_url%/*}/$pg_db"
  "${pg_admin[@]}" -q -c "CREATE DATABASE $pg_db OWNER tessera" >/dev/null
  import_run pg-quarter "$pg_url" "$quarter"
  pg_rss_q=$run_rss
  # A fresh database for the full run: same state as the SQLite workspace.
  "${pg_admin[@]}" -q -c "DROP DATABASE $pg_db" >/dev/null
  "${pg_admin[@]}" -q -c "CREATE DATABASE $pg_db OWNER tessera" >/dev/null
  import_run pg "$pg_url" "$n"
  pg_s=$run_s pg_rate=$run_rate pg_rss=$run_rss pg_line=$run_line pg_cpu=$run_cpu
  pg=1
fi

# ----------------------------------------------------------------------------------------------- report
verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && echo 1 || echo 0; }
growth() { awk -v q="$1" -v f="$2" 'BEGIN { printf "%+.1f%%", (f / q - 1) * 100 }'; }
# Peak RSS slope between the N/4 and the N run, in KB per image: ~0 when flat.
slope() { awk -v q="$1" -v f="$2" -v d="$3" 'BEGIN { printf "%.2f KB/image", (f - q) * 1024 / d }'; }
growth_ok() { awk -v q="$1" -v f="$2" 'BEGIN { exit !(f / q - 1 < 0.20) }' && echo 1 || echo 0; }

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "== tessera import benchmark: $n PNGs ${size}x${size} u8, $((input_bytes / n / 1000)) KB each ($((input_bytes / 1000000)) MB), --jobs $jobs, $(nproc) cores ($cpu), page cache warm"
echo "   load average at start: $load_start, at end: $load_end (other work on this machine skews every number)"
row() { printf '%-34s %9s %10s %10s %6s %14s %12s\n' "$@"; }
row "run" "wall s" "images/s" "vs floor" "CPU %" "RSS N/4 (MB)" "RSS N (MB)"
row "sha256sum x$jobs (I/O floor, anchor)" "$floor_s" "$floor_rate" "1.00" "$floor_cpu" "-" "$floor_rss"
row "tessera import, SQLite" "$sq_s" "$sq_rate" "$(ratio "$sq_rate" "$floor_rate")" "$sq_cpu" "$sq_rss_q" "$sq_rss"
if [ "$pg" = 1 ]; then
  row "tessera import, PostgreSQL" "$pg_s" "$pg_rate" "$(ratio "$pg_rate" "$floor_rate")" "$pg_cpu" "$pg_rss_q" "$pg_rss"
fi
echo "   (vs floor = images/s / sha256sum images/s over the same files in this run; wall time includes process start;"
echo "    CPU % = of one core, $((100 * $(nproc)))% = every core busy; the PostgreSQL server's own CPU is not counted)"
echo "   SQLite summary:     $sq_line"
[ "$pg" = 1 ] && echo "   PostgreSQL summary: $pg_line"
echo
echo "goal                                   measured        result"
printf '%-38s %-15s %s\n' "SQLite >= 400 images/s" "$sq_rate/s" "$(verdict "$(ge "$sq_rate" 400)")"
if [ "$pg" = 1 ]; then
  printf '%-38s %-15s %s\n' "PostgreSQL >= 400 images/s" "$pg_rate/s" "$(verdict "$(ge "$pg_rate" 400)")"
  printf '%-38s %-15s %s\n' "PostgreSQL >= 0.70 x SQLite" "$(ratio "$pg_rate" "$sq_rate") x" \
    "$(verdict "$(ge "$(ratio "$pg_rate" "$sq_rate")" 0.70)")"
fi
printf '%-38s %-15s %s   (%s)\n' "SQLite peak RSS growth N/4 -> N < 20%" "$(growth "$sq_rss_q" "$sq_rss")" \
  "$(verdict "$(growth_ok "$sq_rss_q" "$sq_rss")")" "$(slope "$sq_rss_q" "$sq_rss" $((n - quarter)))"
if [ "$pg" = 1 ]; then
  printf '%-38s %-15s %s   (%s)\n' "PostgreSQL peak RSS growth < 20%" "$(growth "$pg_rss_q" "$pg_rss")" \
    "$(verdict "$(growth_ok "$pg_rss_q" "$pg_rss")")" "$(slope "$pg_rss_q" "$pg_rss" $((n - quarter)))"
fi
[ "$n" -lt 10000 ] && echo "   (smoke size: the goals are defined for 10,000 images)"

# ----------------------------------------------------------------------------------- micro-benchmarks
if [ "${TESSERA_BENCH_MICRO:-1}" != 0 ] && [ -x "$micro" ]; then
  echo
  echo "== per-image steps on one ${size}x${size} u8 PNG of this set (single thread), each against its anchor"
  "$micro" "${files[0]}"
fi
